import { describe, expect, it } from 'vitest';
import reference from '../distill/reference/losses-and-metrics.json';
import { auroc } from './auroc';

interface AurocCase {
  idScores: number[];
  oodScores: number[];
  expected: { auroc: number };
}

const cases = reference.auroc as AurocCase[];

describe('auroc', () => {
  it('has reference cases, some with scores tied across the sets', () => {
    expect(cases.length).toBeGreaterThan(0);
    const crossTies = cases.some(({ idScores, oodScores }) => oodScores.some((s) => idScores.includes(s)));
    expect(crossTies).toBe(true);
  });

  it.each(cases.map((c, i) => [i, c] as const))(
    'matches scikit-learn on reference case %i',
    (_, { idScores, oodScores, expected }) => {
      expect(Math.abs(auroc(idScores, oodScores) - expected.auroc)).toBeLessThan(1e-9);
      // Typed arrays are accepted as they are.
      expect(
        Math.abs(auroc(Float64Array.from(idScores), Float64Array.from(oodScores)) - expected.auroc),
      ).toBeLessThan(1e-9);
    },
  );

  it('is 1 for perfect separation, 0 when reversed, 0.5 when all tied', () => {
    expect(auroc([0, 1, 2], [3, 4])).toBe(1);
    expect(auroc([3, 4], [0, 1, 2])).toBe(0);
    expect(auroc([1, 1, 1], [1, 1])).toBe(0.5);
  });

  it('counts ties across the sets as one half', () => {
    // Pairs (in, out): (0, 1) wins, (0, 2) wins, (1, 1) ties, (1, 2) wins: (3 + 0.5) / 4.
    expect(auroc([0, 1], [1, 2])).toBe(0.875);
    // A tie within one set does not matter.
    expect(auroc([0, 0], [1])).toBe(1);
  });

  it('agrees with the O(n^2) pair count on random scores with ties', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const inScores = Array.from({ length: 137 }, () => Math.round(next() * 40) / 4);
    const outScores = Array.from({ length: 91 }, () => Math.round(next() * 40 + 8) / 4);
    let wins = 0;
    for (const i of inScores) for (const o of outScores) wins += o > i ? 1 : o === i ? 0.5 : 0;
    expect(auroc(inScores, outScores)).toBeCloseTo(wins / (inScores.length * outScores.length), 12);
  });

  it('handles infinite scores and rejects empty sets and NaN', () => {
    expect(auroc([-Infinity, 0], [Infinity, 1])).toBe(1);
    expect(() => auroc([], [1])).toThrow(RangeError);
    expect(() => auroc([1], [])).toThrow(RangeError);
    expect(() => auroc([Number.NaN], [1])).toThrow(RangeError);
  });
});
