import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { anchorUncertainty } from '../distill/losses';
import reference from '../distill/reference/ood-metrics.json';
import { aupr } from './aupr';
import { auroc } from './auroc';
import { expectedCalibrationError, reliabilityBins } from './calibration';
import { fpr95 } from './fpr95';
import { energyScore, entropyScore, mspScore } from './softmaxScores';

interface ScoreReference {
  idScores: number[];
  oodScores: number[];
  auroc: number;
  aupr: number;
  fpr95: number;
}
const scores = reference.scores as Record<'msp' | 'entropy' | 'energy' | 'anchorU', ScoreReference>;
const names = Object.keys(scores) as (keyof typeof scores)[];

const relativeError = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);

describe('array metrics against scikit-learn (float64 scores in)', () => {
  it.each(names)('%s: auroc, aupr, fpr95 within 1e-5 relative', (name) => {
    const r = scores[name];
    expect(relativeError(auroc(r.idScores, r.oodScores), r.auroc)).toBeLessThan(1e-5);
    expect(relativeError(aupr(r.idScores, r.oodScores), r.aupr)).toBeLessThan(1e-5);
    expect(relativeError(fpr95(r.idScores, r.oodScores), r.fpr95)).toBeLessThan(1e-5);
  });

  it('aupr: perfect separation is 1; ties at a threshold enter together', () => {
    expect(aupr([0, 1], [2, 3])).toBe(1);
    // All tied: one threshold, precision = share of OoD, recall 1.
    expect(aupr([1, 1, 1], [1])).toBe(0.25);
    // sklearn: y = [0, 1, 1], s = [1, 1, 0] -> AP = 0.5 * 0.5 + 0.5 * (2 / 3) = 0.58333.
    expect(aupr([1], [1, 0])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 12);
  });

  it('fpr95: counts OoD accepted at the threshold that first accepts 95% of ID', () => {
    const id = Array.from({ length: 20 }, (_, i) => i); // 19 of 20 accepted at threshold 18
    expect(fpr95(id, [18.5, 100])).toBe(0);
    expect(fpr95(id, [17, 100])).toBe(0.5);
    expect(fpr95(id, [18, 100])).toBe(0.5); // tied with the threshold: accepted
    expect(() => fpr95([], [1])).toThrow(RangeError);
    expect(() => aupr([1], [Number.NaN])).toThrow(/NaN/);
  });
});

describe('expected calibration error', () => {
  const logits = tf.tensor2d(reference.idLogits);
  const probs = tf.softmax(logits);
  const confidences = Array.from(tf.max(probs, 1).dataSync());
  const predicted = Array.from(tf.argMax(probs, 1).dataSync());
  tf.dispose([logits, probs]);
  const correct = predicted.map((p, i) => p === reference.idLabels[i]);

  it('equals the reference ECE (15 bins) within 1e-4 relative', () => {
    expect(relativeError(expectedCalibrationError(confidences, correct), reference.ece15)).toBeLessThan(1e-4);
    expect(relativeError(expectedCalibrationError(confidences, correct, 15), reference.ece15)).toBeLessThan(
      1e-4,
    );
  });

  it('bins cover (b/15, (b+1)/15]; an edge value goes to the lower bin; counts add up', () => {
    const bins = reliabilityBins([0, 1 / 15, 0.5, 1], [1, 0, 1, 1]);
    expect(bins).toHaveLength(15);
    expect(bins[0]!.count).toBe(2);
    expect(bins[0]!.accuracy).toBe(0.5);
    expect(bins[7]!.count).toBe(1);
    expect(bins[14]!.count).toBe(1);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(4);
    expect(Number.isNaN(bins[3]!.accuracy)).toBe(true);
    // Perfectly calibrated: confidence 0.75 with 3 of 4 right.
    expect(expectedCalibrationError([0.75, 0.75, 0.75, 0.75], [1, 1, 1, 0])).toBeCloseTo(0, 12);
    expect(expectedCalibrationError([1, 1], [0, 0])).toBe(1);
  });

  it('refuses mismatched lengths, bad confidences and empty input with a reason', () => {
    expect(() => expectedCalibrationError([0.5], [1, 0])).toThrow(/one correctness flag per confidence/);
    expect(() => expectedCalibrationError([1.5], [1])).toThrow(/outside \[0, 1\]/);
    expect(() => expectedCalibrationError([], [])).toThrow(/at least one/);
  });
});

describe.each(['cpu', 'wasm'] as const)('scores from logits and features on %s (float32)', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(async () => {
    await initBackend('cpu');
  });

  const cases = [
    ['msp', mspScore],
    ['entropy', entropyScore],
    ['energy', energyScore],
  ] as const;

  it.each(cases)('%s equals the reference per image within 1e-4 relative, and leaks nothing', (name, fn) => {
    const before = tf.memory().numTensors;
    for (const [set, values] of [
      ['idScores', reference.idLogits],
      ['oodScores', reference.oodLogits],
    ] as const) {
      const logits = tf.tensor2d(values);
      const result = fn(logits);
      expect(result.shape).toEqual([values.length]);
      const got = result.dataSync();
      const want = scores[name][set];
      want.forEach((w, i) => expect(relativeError(got[i]!, w)).toBeLessThan(1e-4));
      tf.dispose([logits, result]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('anchorU (existing anchorUncertainty) equals the reference, and the metrics on float32 scores match', () => {
    const anchors = tf.tensor2d(reference.anchorFeatures);
    const id = tf.tensor2d(reference.idFeatures);
    const ood = tf.tensor2d(reference.oodFeatures);
    const idU = anchorUncertainty(id, anchors);
    const oodU = anchorUncertainty(ood, anchors);
    const r = scores.anchorU;
    expect(relativeError(auroc(idU.dataSync(), oodU.dataSync()), r.auroc)).toBeLessThan(1e-4);
    expect(relativeError(aupr(idU.dataSync(), oodU.dataSync()), r.aupr)).toBeLessThan(1e-4);
    expect(relativeError(fpr95(idU.dataSync(), oodU.dataSync()), r.fpr95)).toBeLessThan(1e-4);
    tf.dispose([anchors, id, ood, idU, oodU]);
  });

  it('refuses logits that are not [n, classes]', () => {
    const bad = tf.tensor1d([1, 2, 3]);
    expect(() => mspScore(bad as unknown as tf.Tensor2D)).toThrow(/shape \[n, classes\]/);
    bad.dispose();
  });
});
