/**
 * ND loss against values worked out by hand and in plain float64 JavaScript (not through ndLoss): the loss of a
 * small hand case, its gradient in both branches of max(|s|, |t|), the class means, and a whole `nd` / `nd+kd`
 * instance on real CIFAR-10 images against the same sum done on the models' outputs read back.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk } from '../../../cli/dataFiles';
import { initBackend } from '../../backend/initBackend';
import { type ImageSplit, selectRecords } from '../../data/cifar10';
import { classBalancedSubset } from '../../data/subset';
import { findPreset } from '../../models/presets';
import { makeBatch } from '../../training/batches';
import type { LossTerms } from '../../training/trainer';
import { defaultParams } from '../method';
import { findMethod } from '../registry';
import { ndLoss, unitClassMeans } from './nd';

/** The ND of one image in float64: 1 - (s . c / |c|) / max(|s|, |t|). */
function ndOf(s: readonly number[], t: readonly number[], c: readonly number[]): number {
  const length = (v: readonly number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  const dot = s.reduce((a, x, j) => a + (x * c[j]!) / length(c), 0);
  return 1 - dot / Math.max(length(s), length(t));
}

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

describe('ndLoss', () => {
  // Image 1: |s| = 5 > |t| = 1, e = (1, 0): 1 - 3/5 = 0.4. Image 2: s orthogonal to its class mean: 1.
  // Image 3: |t| = 2 > |s| = sqrt 2, e = (1, 1)/sqrt 2: 1 - sqrt 2 / 2.
  const s = [
    [3, 4],
    [1, 0],
    [1, 1],
  ];
  const t = [
    [0, 1],
    [0, 2],
    [2, 0],
  ];
  const centers = [
    [1, 0],
    [0, 5],
    [1, 1],
  ];
  const targets = [0, 1, 2];
  const unit = centers.map((c) => c.map((x) => x / Math.hypot(...c)));

  it('is the mean of 1 - s.e / max(|s|, |t|) over the batch (a hand-worked case)', async () => {
    const expected = (0.4 + 1 + (1 - Math.SQRT2 / 2)) / 3;
    expect(expected).toBeCloseTo(0.564298, 6);
    const value = tf.tidy(() =>
      ndLoss(tf.tensor2d(s), tf.tensor2d(t), tf.tensor2d(unit), tf.tensor1d(targets, 'int32')),
    );
    expect(await value.data()).toHaveLength(1);
    expect((await value.data())[0]).toBeCloseTo(expected, 6);
    value.dispose();
  });

  it('matches float64 sums on random embeddings, and its gradient is the hand-derived one in both branches', async () => {
    const random = (() => {
      let x = 7;
      return () => ((x = (x * 16807) % 2147483647) / 2147483647) * 2 - 1;
    })();
    const n = 6;
    const dim = 5;
    const rows = (scale: (i: number) => number) =>
      Array.from({ length: n }, (_, i) => Array.from({ length: dim }, () => random() * scale(i)));
    // Even images: the student's embedding is longer than the teacher's; odd ones: shorter.
    const sv = rows((i) => (i % 2 ? 0.2 : 3));
    const tv = rows(() => 1);
    const cv = Array.from({ length: 3 }, () => Array.from({ length: dim }, () => random()));
    const cls = Array.from({ length: n }, (_, i) => i % 3);
    const expected = sv.reduce((a, si, i) => a + ndOf(si, tv[i]!, cv[cls[i]!]!), 0) / n;

    const unitCenters = tf.tensor2d(cv.map((c) => c.map((x) => x / Math.hypot(...c))));
    const [value, grad] = tf.tidy(() => {
      const f = (x: tf.Tensor) =>
        ndLoss(x as tf.Tensor2D, tf.tensor2d(tv), unitCenters, tf.tensor1d(cls, 'int32'));
      return [f(tf.tensor2d(sv)), tf.grad(f)(tf.tensor2d(sv))];
    });
    expect((await value!.data())[0]).toBeCloseTo(expected, 5);
    const g = (await grad!.array()) as number[][];
    sv.forEach((si, i) => {
      const c = cv[cls[i]!]!;
      const e = c.map((x) => x / Math.hypot(...c));
      const ls = Math.hypot(...si);
      const lt = Math.hypot(...tv[i]!);
      const se = si.reduce((a, x, j) => a + x * e[j]!, 0);
      // d/ds of 1 - s.e / |s| is -(e / |s| - (s.e) s / |s|^3); of 1 - s.e / |t| it is -e / |t|; over n images.
      const want = si.map((x, j) => (ls > lt ? -(e[j]! / ls - (se * x) / ls ** 3) / n : -e[j]! / lt / n));
      expect(ls > lt).toBe(i % 2 === 0);
      g[i]!.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 6));
    });
    tf.dispose([value!, grad!, unitCenters]);
  });
});

describe('unitClassMeans', () => {
  it('averages per class and normalises; a class with no record gets a zero row', () => {
    // Class 0: (1, 0) and (3, 4), mean (2, 2) -> (1, 1)/sqrt 2. Class 1: (0, 2) -> (0, 1). Class 2: none.
    const features = Float32Array.from([1, 0, 0, 2, 3, 4]);
    const classes = [0, 1, 0];
    const out = unitClassMeans(features, 2, (r) => classes[r]!, 3);
    const want = [Math.SQRT1_2, Math.SQRT1_2, 0, 1, 0, 0];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });
});

describe('the nd and nd+kd methods on CIFAR-10 images', () => {
  let train: ImageSplit;
  const indices = Array.from({ length: 8 }, (_, i) => i * 25);
  let images: tf.Tensor4D;
  let labels: tf.Tensor1D;
  const models: tf.LayersModel[] = [];

  beforeAll(async () => {
    const embedded = (await loadPreparedFromDisk('embedded')).train;
    train = selectRecords(embedded, classBalancedSubset(embedded.labels, 10, 20, 'nd-test'));
    images = tf.tensor4d(makeBatch(train, indices), [indices.length, 32, 32, 3]);
    labels = tf.tensor1d(
      indices.map((i) => train.labels[i]!),
      'int32',
    );
  });
  afterAll(() => {
    tf.dispose([images, labels]);
    models.forEach((m) => m.dispose());
  });

  const build = (id: string, seed: number) => {
    const model = findPreset(id).build(seed);
    models.push(model);
    return model;
  };

  /** Embeddings [records][dim] of a model in inference mode, read back. */
  const embeddings = async (model: tf.LayersModel, split: ImageSplit, records: readonly number[]) => {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(makeBatch(split, records), [records.length, 32, 32, 3]);
      return (model.apply(x, { training: false }) as tf.Tensor[])[1]!;
    });
    const rows = (await out.array()) as number[][];
    out.dispose();
    return rows;
  };

  /** The ND of the batch from read-back embeddings and labels, in float64. */
  async function expectedNd(
    student: tf.LayersModel,
    teacher: tf.LayersModel,
    project: (s: number[]) => number[],
  ): Promise<number> {
    const all = Array.from({ length: train.count }, (_, i) => i);
    const teacherAll = await embeddings(teacher, train, all);
    const dim = teacherAll[0]!.length;
    const sums = Array.from({ length: 10 }, () => new Array<number>(dim).fill(0));
    teacherAll.forEach((row, r) => row.forEach((x, j) => (sums[train.labels[r]!]![j]! += x)));
    const s = await embeddings(student, train, indices);
    return (
      indices.reduce(
        (a, record, i) => a + ndOf(project(s[i]!), teacherAll[record]!, sums[train.labels[record]!]!),
        0,
      ) / indices.length
    );
  }

  async function terms(id: string, student: tf.LayersModel, teacher: tf.LayersModel) {
    const context = { student, teacher, train, seed: 3, batchSize: indices.length, labelledFraction: 1 };
    const instance = await findMethod(id).create(context);
    const out = instance.loss({ images, labels, indices, training: false });
    const names = Object.keys(out.terms);
    const stacked = tf.stack(names.map((n) => out.terms[n]!));
    const values = await stacked.data();
    tf.dispose([stacked, out.logits, ...Object.values(out.terms as LossTerms)]);
    return { instance, values: Object.fromEntries(names.map((n, i) => [n, values[i]!])) };
  }

  it('nd with embeddings of one size: no projection, nd from the teacher class means, total = CE + 2 nd', async () => {
    const student = build('resnet8', 11);
    const teacher = build('resnet20', 12);
    const before = tf.memory().numTensors;
    const { instance, values } = await terms('nd', student, teacher);
    expect(instance.extra.withModel).toBeUndefined();
    instance.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(defaultParams(findMethod('nd'))).toEqual({ weight: 2 });
    expect(values.nd).toBeCloseTo(await expectedNd(student, teacher, (s) => s), 4);
    expect(values.total).toBeCloseTo(values.ce! + 2 * values.nd!, 4);
  });

  it('nd+kd through a learned projection (1024 -> 64): nd matches, total = CE + 1 KD + 2 nd', async () => {
    const student = build('cnn-small', 13);
    const teacher = build('resnet8', 14);
    const { instance, values } = await terms('nd+kd', student, teacher);
    const state = await instance.state!();
    instance.dispose();
    const kernel = state['nd/kernel']!;
    const bias = state['nd/bias']!;
    expect(kernel.shape).toEqual([1024, 64]);
    const project = (s: number[]) =>
      Array.from({ length: 64 }, (_, k) =>
        s.reduce((a, x, j) => a + x * kernel.values[j * 64 + k]!, bias.values[k]!),
      );
    expect(Object.keys(values).sort()).toEqual(['ce', 'kd.soft', 'nd', 'total']);
    expect(defaultParams(findMethod('nd+kd'))).toEqual({
      'nd.weight': 2,
      'kd.temperature': 4,
      'kd.alpha': 1,
    });
    expect(values.nd).toBeCloseTo(await expectedNd(student, teacher, project), 4);
    expect(values.total).toBeCloseTo(values.ce! + values['kd.soft']! + 2 * values.nd!, 4);
  });
});
