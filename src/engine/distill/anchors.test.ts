import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { errorOf } from '../../testing/errorOf';
import { initBackend } from '../backend/initBackend';
import { type Dataset, selectRecords } from '../data/cifar10';
import { classBalancedSubset } from '../data/subset';
import { findPreset } from '../models/presets';
import { DEFAULT_TRAIN_CONFIG, parseTrainConfig } from '../training/hyperparams';
import { createOptimizer, Trainer } from '../training/trainer';
import { anchorUncertaintyOf, rankAnchors, recordImages, selectAnchors, teacherFeatures } from './anchors';
import type { MethodContext } from './method';
import { findMethod } from './registry';

let dataset: Dataset;
let teacher: tf.LayersModel;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  const report = await initBackend('wasm');
  expect(report.backend).toBe('wasm');
  const embedded = await loadPreparedFromDisk('embedded');
  dataset = {
    ...embedded,
    // 200 training images, 20 per class; 16 test images for the trainer's end-of-epoch evaluation.
    train: selectRecords(embedded.train, classBalancedSubset(embedded.train.labels, 10, 20, 'anchors-test')),
    test: selectRecords(embedded.test, range(16)),
  };
  teacher = findPreset('resnet8').build(2);
});

afterAll(() => teacher?.dispose());

interface AkdMasks {
  akd: { anchors: { index: number; class: number; centrality: number }[]; masks: number[][][] };
}

describe('rankAnchors', () => {
  it('ranks each class by the row sums of its cosine-similarity matrix', () => {
    // Class 0: three vectors near (1, 0) and one farther off; class 1: three vectors near (0, 1). Lengths vary:
    // only the cosines count.
    const rows = [
      [2, 0.1],
      [0, 1],
      [1, 0],
      [3, 0.6],
      [0.5, 0.5],
      [-1, 2],
      [0.4, 3],
    ];
    const classes = [0, 1, 0, 0, 0, 1, 1];
    const cos = (a: number[], b: number[]) =>
      (a[0]! * b[0]! + a[1]! * b[1]!) / (Math.hypot(a[0]!, a[1]!) * Math.hypot(b[0]!, b[1]!));
    const rowSum = (i: number) =>
      rows.reduce((sum, r, j) => (classes[j] === classes[i] ? sum + cos(rows[i]!, r) : sum), 0);
    const expectedOrder = (c: number) =>
      range(rows.length)
        .filter((i) => classes[i] === c)
        .sort((a, b) => rowSum(b) - rowSum(a));

    const features = Float32Array.from(rows.flat());
    const set = rankAnchors(features, 2, classes, 4, 2);
    expect(set.indices).toEqual([...expectedOrder(0), ...expectedOrder(1)]);
    expect(set.indices.slice(0, 4)).toEqual([3, 0, 2, 4]);
    expect(set.classes).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect(set.indices.slice(4)).toEqual([1, 6, 5]);
    set.indices.forEach((i, k) => expect(set.centrality[k]).toBeCloseTo(rowSum(i), 6));
    expect(set.classSizes).toEqual([4, 3]);

    const top = rankAnchors(features, 2, classes, 1, 2);
    expect(top.indices).toEqual([3, 1]);
    expect(errorOf(() => rankAnchors(features, 3, classes, 1, 2)).message).toBe(
      'expected 7 x 3 features, got 14 values',
    );
  });
});

describe('selectAnchors', () => {
  it.each([1, 2])('covers all 10 classes with %i anchor(s) each, most central first', async (perClass) => {
    const set = await selectAnchors(teacher, dataset.train, { perClass, batchSize: 64 });
    expect(set.indices).toHaveLength(10 * perClass);
    expect(new Set(set.indices).size).toBe(10 * perClass);
    expect(set.classes).toEqual(range(10).flatMap((c) => new Array(perClass).fill(c)));
    set.indices.forEach((index, k) => expect(dataset.train.labels[index]).toBe(set.classes[k]));
    for (let k = 1; k < set.indices.length; k++)
      if (set.classes[k] === set.classes[k - 1])
        expect(set.centrality[k]).toBeLessThanOrEqual(set.centrality[k - 1]!);
    expect(set.classSizes).toEqual(new Array(10).fill(20));
  });

  it('reads the same features whatever the batch size, in inference mode', async () => {
    const a = await teacherFeatures(teacher, dataset.train, 256);
    const b = await teacherFeatures(teacher, dataset.train, 48);
    expect(b.dim).toBe(64);
    expect(Array.from(b.predicted)).toEqual(Array.from(a.predicted));
    for (let i = 0; i < a.features.length; i += 97) expect(b.features[i]).toBeCloseTo(a.features[i]!, 4);
  });
});

describe('AKD', () => {
  it('trains its masks: after each step their mean is 1 and they have moved from all-ones; state round-trips', async () => {
    const student = findPreset('cnn-small').build(3);
    const config = parseTrainConfig({
      ...DEFAULT_TRAIN_CONFIG,
      role: 'student',
      model: 'cnn-small',
      epochs: 1,
      batchSize: 16,
      logEvery: 1,
      augment: false,
    });
    const context: MethodContext = {
      student,
      teacher,
      train: dataset.train,
      seed: 1,
      batchSize: config.batchSize,
      labelledFraction: 1,
    };
    const akd = findMethod('akd');
    const instance = await akd.create(context, { anchorsPerClass: 2 });
    const optimizer = createOptimizer(config);
    try {
      const initial = (await instance.describe!()) as unknown as AkdMasks;
      expect(initial.akd.anchors).toHaveLength(20);
      expect(initial.akd.masks.flat(2).every((v) => v === 1)).toBe(true);

      const trainer = new Trainer(
        student,
        config,
        dataset,
        optimizer,
        instance.loss,
        undefined,
        instance.extra,
      );
      const outcome = await trainer.run({ shouldStop: () => trainer.state.stepInEpoch >= 2 });
      expect(outcome).toEqual({ kind: 'stopped' });
      expect(trainer.state.steps.map((s) => s.step)).toEqual([1, 2]);
      expect(Object.keys(trainer.state.steps[0]!.terms).sort()).toEqual([
        'akd',
        'ce',
        'l1',
        'l2',
        'l3',
        'total',
      ]);

      const trained = (await instance.describe!()) as unknown as AkdMasks;
      expect(trained.akd.masks).toHaveLength(20);
      for (const mask of trained.akd.masks) {
        const cells = mask.flat();
        expect(cells).toHaveLength(14 * 14);
        expect(Math.abs(cells.reduce((a, b) => a + b, 0) / cells.length - 1)).toBeLessThan(1e-5);
      }
      const moved = Math.max(...trained.akd.masks.flat(2).map((v) => Math.abs(v - 1)));
      expect(moved).toBeGreaterThan(1e-6);

      // The masks are the run's state: a second instance takes them back.
      const state = await instance.state!();
      expect(Object.keys(state)).toEqual(['akd/masks']);
      expect(state['akd/masks']!.shape).toEqual([20, 14, 14, 1]);
      const again = await akd.create(context, { anchorsPerClass: 2 });
      try {
        again.restore!(state);
        expect(((await again.describe!()) as unknown as AkdMasks).akd.masks).toEqual(trained.akd.masks);
        expect(errorOf(() => again.restore!({})).message).toBe('the saved method state has no "masks"');
      } finally {
        again.dispose();
      }

      // Anchor uncertainty: 0 on the unmasked anchors themselves, within [0, 1] elsewhere.
      const anchorImages = recordImages(
        dataset.train,
        trained.akd.anchors.map((a) => a.index),
      );
      const scorer = anchorUncertaintyOf(student, anchorImages);
      const onAnchors = scorer.score(anchorImages);
      const testImages = recordImages(dataset.test, range(16));
      const others = scorer.score(testImages);
      for (const u of await onAnchors.data()) expect(u).toBeCloseTo(0, 5);
      for (const u of await others.data()) expect(u >= 0 && u <= 1).toBe(true);
      tf.dispose([anchorImages, testImages, onAnchors, others]);
      scorer.dispose();
    } finally {
      instance.dispose();
      optimizer.dispose();
      student.dispose();
    }
  });
});
