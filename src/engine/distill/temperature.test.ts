import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../testing/errorOf';
import { kdLoss } from './losses';
import reference from './reference/losses-and-metrics.json';
import oodReference from './reference/ood-metrics.json';
import {
  accuracyOf,
  classSimilarity,
  darkKnowledge,
  entropy,
  entropyAt,
  entropyCurve,
  kdSoftTerm,
  logTemperatures,
  meanKdSoftTerm,
  mostUncertain,
  rankClasses,
  softmaxAt,
} from '../config/temperature';

interface ReferenceCase {
  inputs: { studentLogits: number[][]; teacherLogits: number[][]; labels: number[] };
  params: { temperature: number; alpha: number };
  expected: { kdSoft: number };
}
const cases = reference.losses as ReferenceCase[];

/** Seeded logits: `rows` x `classes`, spread like a trained net's (a few units apart). */
function randomLogits(rows: number, classes: number, seed: number, scale = 4): Float32Array {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Float32Array.from({ length: rows * classes }, () => (next() - 0.5) * 2 * scale);
}

const relative = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);
const TEMPERATURES = [0.5, 1, 2, 4, 10, 20];

describe('temperature explorer numbers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(0);
  });

  it('T^2 KL matches the float64 reference kdSoft of every loss case', () => {
    for (const c of cases) {
      const classes = c.inputs.teacherLogits[0]!.length;
      const got = meanKdSoftTerm(
        Float32Array.from(c.inputs.teacherLogits.flat()),
        Float32Array.from(c.inputs.studentLogits.flat()),
        classes,
        c.params.temperature,
      );
      // Float64 sums of float32-rounded inputs: far closer than the 1e-4 the tfjs loss needs.
      expect(relative(got, c.expected.kdSoft), `got ${got}, want ${c.expected.kdSoft}`).toBeLessThan(1e-6);
    }
  });

  it("T^2 KL agrees with the loss code's kdLoss soft term at every temperature of the slider", () => {
    const rows = 32;
    const classes = 10;
    const teacher = randomLogits(rows, classes, 7, 6);
    const student = randomLogits(rows, classes, 11, 3);
    for (const temperature of TEMPERATURES) {
      const terms = tf.tidy(() =>
        kdLoss(
          tf.tensor2d(student, [rows, classes]),
          tf.tensor2d(teacher, [rows, classes]),
          Array.from({ length: rows }, (_, i) => i % classes),
          { temperature, alpha: 0.9 },
        ),
      );
      const [soft] = terms.soft.dataSync();
      tf.dispose(terms);
      const ours = meanKdSoftTerm(teacher, student, classes, temperature);
      expect(relative(ours, soft!), `T=${temperature}: ours ${ours}, kdLoss ${soft}`).toBeLessThan(1e-4);
    }
  });

  it('softmax at T and its entropy match tfjs (softmax of z / T) on the same logits', () => {
    const logits = randomLogits(1, 10, 3, 8);
    for (const temperature of TEMPERATURES) {
      const p = softmaxAt(logits, temperature);
      const want = tf.tidy(() => tf.softmax(tf.div(tf.tensor1d(logits), temperature)).dataSync());
      p.forEach((value, i) => expect(Math.abs(value - want[i]!)).toBeLessThan(1e-6));
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const wantEntropy = -Array.from(want).reduce((h, q) => h + (q > 0 ? q * Math.log(q) : 0), 0);
      expect(Math.abs(entropyAt(logits, temperature) - wantEntropy)).toBeLessThan(1e-5);
      expect(entropyAt(logits, temperature)).toBeCloseTo(entropy(p), 12);
    }
  });

  it('entropy at T = 1 matches the float64 reference softmax entropy of every logit row', () => {
    const sets = [
      [oodReference.idLogits, oodReference.scores.entropy.idScores],
      [oodReference.oodLogits, oodReference.scores.entropy.oodScores],
    ] as const;
    let rows = 0;
    for (const [logits, scores] of sets)
      logits.forEach((row, i) => {
        const want = scores[i]!;
        expect(Math.abs(entropyAt(row, 1) - want), `row ${i}`).toBeLessThan(1e-9 * Math.max(1, want));
        expect(Math.abs(entropy(softmaxAt(row, 1)) - want)).toBeLessThan(1e-9 * Math.max(1, want));
        rows++;
      });
    expect(rows).toBe(500);
  });

  it('entropy rises with T, from near 0 for a confident image to ln(classes) in the limit', () => {
    const logits = [12, 3, 1, 0, -1, -2, -2, -3, -4, -5];
    const curve = entropyCurve(logits, logTemperatures());
    expect(curve[0]!.temperature).toBeCloseTo(0.5, 12);
    expect(curve[curve.length - 1]!.temperature).toBeCloseTo(20, 12);
    for (let i = 1; i < curve.length; i++) expect(curve[i]!.entropy).toBeGreaterThan(curve[i - 1]!.entropy);
    expect(curve[0]!.entropy).toBeLessThan(1e-6);
    expect(curve[curve.length - 1]!.entropy).toBeLessThan(Math.log(10));
    expect(entropyAt(logits, 1e6)).toBeCloseTo(Math.log(10), 6);
    expect(entropy([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(Math.log(4), 12);
    expect(entropy([1, 0, 0])).toBe(0);
  });

  it('T^2 KL is zero for identical logits and never negative', () => {
    const t = randomLogits(1, 10, 5);
    expect(kdSoftTerm(t, t, 4)).toBeCloseTo(0, 12);
    for (const temperature of TEMPERATURES)
      expect(kdSoftTerm(t, randomLogits(1, 10, 100 + temperature * 10), temperature)).toBeGreaterThan(0);
  });

  it('ranks classes and names the runner-ups (dark knowledge)', () => {
    const p = [0.05, 0.6, 0.005, 0.25, 0.095, 0, 0, 0, 0, 0];
    expect(rankClasses(p).map((c) => c.classIndex)).toEqual([1, 3, 4, 0, 2, 5, 6, 7, 8, 9]);
    expect(darkKnowledge(p)).toEqual([
      { classIndex: 3, probability: 0.25 },
      { classIndex: 4, probability: 0.095 },
      { classIndex: 0, probability: 0.05 },
    ]);
    // Runner-ups below the floor are left out.
    expect(darkKnowledge(p, 5, 0.06).map((c) => c.classIndex)).toEqual([3, 4]);
  });

  it('averages soft targets per true class: each row is the mean softmax of that class, NaN without images', () => {
    const classes = 3;
    const logits = Float32Array.from([2, 0, 0, 0, 2, 1, 4, 0, -1, 0, 0, 3]);
    const labels = [0, 1, 0, 1];
    const temperature = 2;
    const matrix = classSimilarity(logits, labels, classes, temperature);
    const mean = (a: Float64Array, b: Float64Array) => Array.from(a, (v, i) => (v + b[i]!) / 2);
    const row = (r: number) => softmaxAt(logits.subarray(r * classes, (r + 1) * classes), temperature);
    const want0 = mean(row(0), row(2));
    const want1 = mean(row(1), row(3));
    for (let c = 0; c < classes; c++) {
      expect(matrix[c]).toBeCloseTo(want0[c]!, 12);
      expect(matrix[classes + c]).toBeCloseTo(want1[c]!, 12);
      expect(matrix[2 * classes + c]).toBeNaN();
    }
  });

  it('picks the images the teacher is least sure about, and counts top-1 accuracy', () => {
    const logits = Float32Array.from([5, 0, 0, 1, 1, 1, 2, 1.9, 0, 0, 0, 9]);
    expect(mostUncertain(logits, 3, 2)).toEqual([1, 2]);
    expect(accuracyOf(logits, [0, 2, 0, 2], 3)).toBe(0.75);
  });

  it('refuses bad input with the problem named', () => {
    expect(errorOf(() => softmaxAt([1, 2], 0)).message).toBe('temperature must be a positive number; got 0');
    expect(errorOf(() => entropyAt([1, 2], Number.NaN)).message).toBe(
      'temperature must be a positive number; got NaN',
    );
    expect(errorOf(() => kdSoftTerm([1, 2], [1, 2, 3], 4)).message).toBe(
      'teacher and student logits must have as many classes; got 2 and 3',
    );
    expect(errorOf(() => classSimilarity(new Float32Array(7), [0], 3, 1)).message).toBe(
      '7 logits are not a whole number of rows of 3 classes',
    );
    expect(errorOf(() => classSimilarity(new Float32Array(6), [0], 3, 1)).message).toBe(
      'expected 2 labels (one per row of logits), got 1',
    );
    expect(errorOf(() => classSimilarity(new Float32Array(3), [3], 3, 1)).message).toBe(
      'label 3 of image 0 is not a class',
    );
  });

  it('recomputes a whole test split (10,000 images) fast enough for a slider', () => {
    const classes = 10;
    const teacher = randomLogits(10_000, classes, 1);
    const student = randomLogits(10_000, classes, 2);
    const labels = Uint8Array.from({ length: 10_000 }, (_, i) => i % classes);
    // The best of five: a two-core machine shared with other work adds pauses that are not the code's.
    const times: number[] = [];
    let matrix: Float64Array = new Float64Array(0);
    let soft = 0;
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      matrix = classSimilarity(teacher, labels, classes, 4);
      soft = meanKdSoftTerm(teacher, student, classes, 4);
      times.push(performance.now() - started);
    }
    const ms = Math.min(...times);
    expect(matrix.every(Number.isFinite)).toBe(true);
    expect(soft).toBeGreaterThan(0);
    // The UI's budget per move is 50 ms, for the embedded split (2,000 images); the full split (10,000) fits too.
    expect(ms).toBeLessThan(50);
  });
});
