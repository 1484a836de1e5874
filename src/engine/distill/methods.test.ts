import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { errorOf } from '../../testing/errorOf';
import { initBackend } from '../backend/initBackend';
import { type ImageSplit, selectRecords } from '../data/cifar10';
import { classBalancedSubset } from '../data/subset';
import { findPreset } from '../models/presets';
import { makeBatch } from '../training/batches';
import type { LossTerms } from '../training/trainer';
import {
  chooseLabelled,
  defaultParams,
  type DistillMethod,
  type MethodContext,
  type MethodInstance,
  MethodParamError,
  validateParams,
} from './method';
import { pairStages } from './methods/at';
import { hintStages } from './methods/fitnet';
import { DISTILL_METHODS, findMethod } from './registry';

const BATCH = 16;

let embeddedTrain: ImageSplit;
/** 200 CIFAR-10 training images, 20 per class. */
let train: ImageSplit;
let student: tf.LayersModel;
let teacher: tf.LayersModel;
let images: tf.Tensor4D;
let labels: tf.Tensor1D;
const indices = Array.from({ length: BATCH }, (_, i) => i * 12);

const contextWith = (labelledFraction: number): MethodContext => ({
  student,
  teacher,
  train,
  seed: 1,
  batchSize: BATCH,
  labelledFraction,
});

const studentVariables = () => student.trainableWeights.map((w) => w.read() as tf.Variable);
const lossTotal = (instance: MethodInstance) => () =>
  instance.loss({ images, labels, indices, training: true }).terms.total;

/** The named terms of one loss call, read back. */
async function termValues(instance: MethodInstance): Promise<Record<string, number>> {
  const { terms, logits } = instance.loss({ images, labels, indices, training: true });
  const names = Object.keys(terms);
  const stacked = tf.stack(names.map((n) => terms[n]!));
  const values = await stacked.data();
  tf.dispose([stacked, logits, ...Object.values(terms as LossTerms)]);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

/** Sum of |gradient| per student variable, for the instance's total. */
async function gradientSizes(instance: MethodInstance): Promise<number[]> {
  const { value, grads } = tf.variableGrads(lossTotal(instance), studentVariables());
  const sizes = tf.tidy(() => tf.stack(Object.values(grads).map((g) => tf.sum(tf.abs(g)))));
  const out = Array.from(await sizes.data());
  tf.dispose([value, sizes, ...Object.values(grads)]);
  return out;
}

beforeAll(async () => {
  const report = await initBackend('wasm');
  expect(report.backend).toBe('wasm');
  embeddedTrain = (await loadPreparedFromDisk('embedded')).train;
  train = selectRecords(embeddedTrain, classBalancedSubset(embeddedTrain.labels, 10, 20, 'methods-test'));
  student = findPreset('cnn-small').build(1);
  teacher = findPreset('resnet8').build(2);
  images = tf.tensor4d(makeBatch(train, indices), [BATCH, 32, 32, 3]);
  labels = tf.tensor1d(
    indices.map((i) => train.labels[i]!),
    'int32',
  );
});

afterAll(() => {
  tf.dispose([images, labels]);
  student?.dispose();
  teacher?.dispose();
});

describe('the registry', () => {
  it('lists the methods in order, each with a one-line summary, its defaults source and valid defaults', () => {
    expect(DISTILL_METHODS.map((m) => m.id)).toEqual([
      'ce',
      'kd',
      'fitnet',
      'at',
      'sp',
      'rkd',
      'pkt',
      'dkd',
      'crd',
      'akd',
      'akd+kd',
      'akd+crd',
      'nd',
      'nd+kd',
    ]);
    for (const method of DISTILL_METHODS) {
      expect(method.summary).not.toContain('\n');
      expect(method.defaultsFrom.length).toBeGreaterThan(0);
      expect(validateParams(method, {})).toEqual(defaultParams(method));
      for (const p of method.params) {
        expect(p.default).toBeGreaterThanOrEqual(p.min);
        expect(p.default).toBeLessThanOrEqual(p.max);
        expect(p.help).not.toContain('\n');
      }
    }
    expect(defaultParams(findMethod('kd'))).toEqual({ temperature: 4, alpha: 0.9 });
    expect(findMethod('akd+kd').params.map((p) => p.name)).toContain('kd.temperature');
    expect(errorOf(() => findMethod('fitnets')).message).toBe(
      'unknown distillation method "fitnets"; methods: ce, kd, fitnet, at, sp, rkd, pkt, dkd, crd, akd, akd+kd, akd+crd, nd, nd+kd',
    );
  });
});

describe('validateParams', () => {
  const kd = () => findMethod('kd');

  it('refuses a value out of range, naming the parameter and its range', () => {
    const error = errorOf(() => validateParams(kd(), { temperature: 0 }));
    expect(error).toBeInstanceOf(MethodParamError);
    expect(error.message).toBe('temperature must be between 0.5 and 20; got 0');
  });

  it('refuses unknown names, listing the valid ones, and reports every problem at once', () => {
    expect(errorOf(() => validateParams(kd(), { tau: 4 })).message).toBe(
      'unknown parameter "tau": valid are temperature, alpha',
    );
    expect(errorOf(() => validateParams(kd(), { tau: 4, alpha: 2 })).message).toBe(
      'unknown parameter "tau": valid are temperature, alpha; alpha must be between 0 and 1; got 2',
    );
    expect(errorOf(() => validateParams(findMethod('ce'), { alpha: 1 })).message).toBe(
      'unknown parameter "alpha": ce takes no parameters',
    );
  });

  it('reads CLI strings, fills defaults, and refuses non-numbers and fractions of whole-number parameters', () => {
    expect(validateParams(kd(), { temperature: '8' })).toEqual({ temperature: 8, alpha: 0.9 });
    expect(errorOf(() => validateParams(kd(), { temperature: 'hot' })).message).toBe(
      'temperature must be a number between 0.5 and 20; got "hot"',
    );
    expect(errorOf(() => validateParams(findMethod('akd'), { anchorsPerClass: 1.5 })).message).toBe(
      'anchorsPerClass must be a whole number between 1 and 10; got 1.5',
    );
    expect(errorOf(() => validateParams(findMethod('akd+crd'), { 'crd.negatives': 10 })).message).toBe(
      'crd.negatives must be between 16 and 16,384; got 10',
    );
  });
});

describe('label efficiency', () => {
  it('labels 20% of every class by seed, all records at 1 and none at 0', () => {
    const labelsOf = embeddedTrain.labels;
    const mask = chooseLabelled(labelsOf, 0.2, 1);
    const perClass = new Array<number>(10).fill(0);
    mask.forEach((m, i) => {
      perClass[labelsOf[i]!]! += m;
    });
    expect(perClass).toEqual(new Array(10).fill(200));
    expect(mask.reduce((a, b) => a + b, 0)).toBe(0.2 * embeddedTrain.count);
    expect(chooseLabelled(labelsOf, 0.2, 1)).toEqual(mask);
    expect(chooseLabelled(labelsOf, 0.2, 2)).not.toEqual(mask);
    expect(chooseLabelled(labelsOf, 1, 1).every((m) => m === 1)).toBe(true);
    expect(chooseLabelled(labelsOf, 0, 1).every((m) => m === 0)).toBe(true);
    expect(errorOf(() => chooseLabelled(labelsOf, 1.5, 1)).message).toBe(
      'labelled fraction must be between 0 and 1; got 1.5',
    );
  });

  it('takes CE over the labelled images of a batch only', async () => {
    const instance = await findMethod('kd').create(contextWith(0.2));
    try {
      const picked = indices.filter((i) => instance.labelled[i] === 1);
      expect(picked.length).toBeGreaterThan(0);
      expect(picked.length).toBeLessThan(BATCH);
      const expected = tf.tidy(() => {
        const logits = (student.apply(images, { training: true }) as tf.Tensor[])[0]!;
        const rows = indices.flatMap((i, row) => (instance.labelled[i] ? [row] : []));
        const chosen = tf.gather(logits, rows);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.gather(labels, rows), 10), chosen);
      });
      const { ce } = await termValues(instance);
      expect(ce).toBeCloseTo((await expected.data())[0]!, 5);
      expected.dispose();
    } finally {
      instance.dispose();
    }
  });
});

describe.each(DISTILL_METHODS.map((m) => [m.id, m] as [string, DistillMethod]))('%s', (_id, method) => {
  it('returns finite named terms with ce and total, finite non-zero student gradients, and leaks nothing', async () => {
    const instance = await method.create(contextWith(1));
    try {
      const terms = await termValues(instance);
      expect(Object.keys(terms)).toEqual(expect.arrayContaining(['ce', 'total']));
      for (const [name, value] of Object.entries(terms)) expect(Number.isFinite(value), name).toBe(true);

      const sizes = await gradientSizes(instance);
      expect(sizes).toHaveLength(studentVariables().length);
      for (const size of sizes) {
        expect(Number.isFinite(size)).toBe(true);
        expect(size).toBeGreaterThan(0);
      }
      // Several calls: the tensor count must not grow (the first calls may set lazy state, e.g. CRD's Z).
      const before = tf.memory().numTensors;
      await gradientSizes(instance);
      await termValues(instance);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      instance.dispose();
    }
  });

  it('frees everything it made when disposed (variables, their initial values, optimizers)', async () => {
    const before = tf.memory().numTensors;
    const instance = await method.create(contextWith(1));
    await termValues(instance);
    instance.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  if (method.id !== 'ce')
    it('with no labels: CE is 0 and the distillation terms alone give the student a gradient', async () => {
      const instance = await method.create(contextWith(0));
      try {
        expect(instance.labelled.every((m) => m === 0)).toBe(true);
        const terms = await termValues(instance);
        expect(terms.ce).toBe(0);
        expect(Math.abs(terms.total!)).toBeGreaterThan(0);
        const sizes = await gradientSizes(instance);
        expect(sizes.every(Number.isFinite)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      } finally {
        instance.dispose();
      }
    });
});

describe('stage matching', () => {
  it('pairs stages by resolution, so a teacher with an extra stage (VGG-BN: 32, 16, 8, 4) still fits', () => {
    const vgg = findPreset('vgg-bn').build(1);
    try {
      expect(pairStages(student, vgg)).toEqual([0, 1, 2]);
      expect(pairStages(student, teacher)).toEqual([0, 1, 2]);
      expect(hintStages(student, vgg)).toEqual({ student: 1, teacher: 1 });
    } finally {
      vgg.dispose();
    }
  });
});

describe('the teacher', () => {
  it('runs in inference mode and gets no gradient', async () => {
    const teacherVariables = teacher.trainableWeights.map((w) => w.read() as tf.Variable);
    const movingMean = teacher.weights.find((w) => w.originalName.endsWith('moving_mean'))!;
    const meanBefore = await movingMean.read().data();
    for (const id of ['kd', 'akd+crd']) {
      const instance = await findMethod(id).create(contextWith(1));
      try {
        expect(() => tf.variableGrads(lossTotal(instance), teacherVariables)).toThrow(/connection/);
      } finally {
        instance.dispose();
      }
    }
    expect(await movingMean.read().data()).toEqual(meanBefore);
  });
});
