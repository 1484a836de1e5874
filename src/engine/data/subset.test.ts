import { beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { type Dataset, selectRecords } from './cifar10';
import { EMBEDDED_SUBSET } from './prepared';
import { classCounts } from './stats';
import { classBalancedSubset, seededRandom, shuffled } from './subset';
import { errorOf } from '../../testing/errorOf';

/** 10 classes of 40 records each, interleaved in a scrambled (but fixed) order. */
const LABELS = Uint8Array.from({ length: 400 }, (_, i) => (i * 7 + Math.floor(i / 10)) % 10);

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('seededRandom', () => {
  it('gives the same stream for the same seed and another for another seed, in [0, 1)', () => {
    const a = seededRandom('x');
    const b = seededRandom('x');
    const c = seededRandom('y');
    const sa = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(sa);
    expect(Array.from({ length: 100 }, c)).not.toEqual(sa);
    expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(seededRandom(7)()).toBe(seededRandom('7')());
  });
});

describe('shuffled', () => {
  it('returns a permutation of a copy and leaves the input alone', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const out = shuffled(items, seededRandom('perm'));
    expect(out).not.toBe(items);
    expect(items).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(out).toHaveLength(100);
    expect([...out].sort((a, b) => a - b)).toEqual(items);
    expect(out).not.toEqual(items);
    expect(shuffled(items, seededRandom('perm'))).toEqual(out);
  });

  it('handles empty and single-item lists', () => {
    expect(shuffled([], seededRandom('e'))).toEqual([]);
    expect(shuffled(['a'], seededRandom('e'))).toEqual(['a']);
  });

  it('draws every permutation of three items about equally often (Fisher-Yates, not a biased swap)', () => {
    const random = seededRandom('uniform');
    const seen = new Map<string, number>();
    const runs = 60_000;
    for (let i = 0; i < runs; i++) {
      const key = shuffled([0, 1, 2], random).join('');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['012', '021', '102', '120', '201', '210']);
    for (const n of seen.values()) expect(Math.abs(n - runs / 6)).toBeLessThan(500);
  });
});

describe('classBalancedSubset', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const a = classBalancedSubset(LABELS, 10, 7, 'seed-a');
    expect(classBalancedSubset(LABELS, 10, 7, 'seed-a')).toEqual(a);
    expect(classBalancedSubset(LABELS, 10, 7, 'seed-b')).not.toEqual(a);
  });

  it('picks exactly perClass records of every class, ascending, without duplicates', () => {
    const picked = classBalancedSubset(LABELS, 10, 7, 'seed-a');
    expect(picked).toHaveLength(70);
    for (let i = 1; i < picked.length; i++) expect(picked[i]!).toBeGreaterThan(picked[i - 1]!);
    expect(new Set(picked).size).toBe(70);
    expect(picked.every((i) => Number.isInteger(i) && i >= 0 && i < LABELS.length)).toBe(true);
    const labels = Uint8Array.from(picked, (i) => LABELS[i]!);
    expect(classCounts(labels, 10)).toEqual(new Array(10).fill(7));
  });

  it('does not just take the first records of each class', () => {
    const picked = classBalancedSubset(LABELS, 10, 7, 'seed-a');
    const firstSeven = Array.from({ length: 10 }, (_, c) =>
      Array.from(LABELS.keys())
        .filter((i) => LABELS[i] === c)
        .slice(0, 7),
    )
      .flat()
      .sort((a, b) => a - b);
    expect(picked).not.toEqual(firstSeven);
  });

  it('takes every record when perClass equals the class size, none for 0', () => {
    expect(classBalancedSubset(LABELS, 10, 40, 's')).toEqual(Array.from(LABELS.keys()));
    expect(classBalancedSubset(LABELS, 10, 0, 's')).toEqual([]);
  });

  it('throws when a class has fewer records than asked for', () => {
    const labels = Uint8Array.from([0, 0, 0, 1, 1, 1, 2, 3, 3, 3]);
    const error = errorOf(() => classBalancedSubset(labels, 4, 3, 's'));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('class 2 has 1 records, fewer than the 3 asked for');
    // A class with no records at all is short too.
    expect(errorOf(() => classBalancedSubset(labels, 5, 1, 's')).message).toBe(
      'class 4 has 0 records, fewer than the 1 asked for',
    );
  });
});

describe('the prepared embedded set', () => {
  let embedded: Dataset;
  let full: Dataset;
  beforeAll(async () => {
    [embedded, full] = await Promise.all([loadPreparedFromDisk('embedded'), loadPreparedFromDisk('full')]);
  });

  it('has 1,000 training and 200 test images per class', () => {
    expect(EMBEDDED_SUBSET.trainPerClass).toBe(1000);
    expect(EMBEDDED_SUBSET.testPerClass).toBe(200);
    expect(embedded.train.count).toBe(10_000);
    expect(embedded.test.count).toBe(2_000);
    expect(classCounts(embedded.train.labels, 10)).toEqual(new Array(10).fill(1_000));
    expect(classCounts(embedded.test.labels, 10)).toEqual(new Array(10).fill(200));
  });

  it('is exactly the records of the full set picked by the committed seed', () => {
    const { seed, trainPerClass, testPerClass } = EMBEDDED_SUBSET;
    const trainPick = classBalancedSubset(full.train.labels, 10, trainPerClass, `${seed}/train`);
    const testPick = classBalancedSubset(full.test.labels, 10, testPerClass, `${seed}/test`);
    const train = selectRecords(full.train, trainPick);
    const test = selectRecords(full.test, testPick);
    expect(bytesEqual(train.labels, embedded.train.labels)).toBe(true);
    expect(bytesEqual(train.images, embedded.train.images)).toBe(true);
    expect(bytesEqual(test.labels, embedded.test.labels)).toBe(true);
    expect(bytesEqual(test.images, embedded.test.images)).toBe(true);
  });

  it('is not reproduced by another seed (the comparison above can tell subsets apart)', () => {
    const other = classBalancedSubset(
      full.test.labels,
      10,
      EMBEDDED_SUBSET.testPerClass,
      'another-seed/test',
    );
    expect(bytesEqual(selectRecords(full.test, other).images, embedded.test.images)).toBe(false);
  });
});
