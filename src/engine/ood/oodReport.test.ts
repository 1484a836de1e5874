import { describe, expect, it } from 'vitest';
import { fidelity, rocCurve, sharedHistogram } from './oodReport';
import type { ImageScores } from './scoreImages';

const outputsOf = (logits: number[][]): ImageScores => ({
  count: logits.length,
  classes: logits[0]!.length,
  logits: Float32Array.from(logits.flat()),
  scores: {
    msp: new Float32Array(),
    entropy: new Float32Array(),
    energy: new Float32Array(),
    anchorU: new Float32Array(),
  },
});

describe('fidelity', () => {
  it('is full agreement and zero KL for the same logits, and KL(teacher || student) by hand otherwise', () => {
    const teacher = outputsOf([
      [2, 0, 0],
      [0, 1, 3],
    ]);
    expect(fidelity(teacher, teacher)).toEqual({ agreement: 1, meanKl: 0 });
    const student = outputsOf([
      [0, 0, 0],
      [0, 3, 1],
    ]);
    const softmax = (row: number[]) => row.map((v) => Math.exp(v) / row.reduce((s, x) => s + Math.exp(x), 0));
    const kl = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]!), 0);
    const expected =
      (kl(softmax([2, 0, 0]), softmax([0, 0, 0])) + kl(softmax([0, 1, 3]), softmax([0, 3, 1]))) / 2;
    const got = fidelity(teacher, student);
    // Row 0: the student's argmax of a tie is class 0, as the teacher's.
    expect(got.agreement).toBe(0.5);
    expect(got.meanKl).toBeCloseTo(expected, 6);
    expect(() => fidelity(teacher, outputsOf([[1, 2, 3]]))).toThrow(/same images and classes/);
  });
});

describe('views', () => {
  it('histograms share bins over the pooled range', () => {
    const bins = sharedHistogram([0, 1], [3, 4], 4);
    expect(bins.map((b) => [b.from, b.to])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(bins.map((b) => b.inDensity)).toEqual([0.5, 0.5, 0, 0]);
    expect(bins.map((b) => b.outDensity)).toEqual([0, 0, 0, 1]);
  });

  it('the ROC curve has one point per distinct threshold and is thinned to the limit', () => {
    expect(rocCurve([0, 1], [1, 2])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    const many = rocCurve(
      Array.from({ length: 1000 }, (_, i) => i),
      Array.from({ length: 1000 }, (_, i) => i + 0.5),
      50,
    );
    expect(many).toHaveLength(50);
    expect(many[49]).toEqual([1, 1]);
  });
});
