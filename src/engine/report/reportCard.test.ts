/**
 * The report card: costs of a tiny hand-built model counted by hand, the latency rule (warm-up left out, median
 * of the timed runs, per image) with a scripted clock around real inference, the ratios from hand numbers, and a
 * whole card for the shipped teacher (its saved weights.bin size read from disk) and a cnn-small student.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { initBackend } from '../backend/initBackend';
import { type ImageSplit, selectRecords } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { loadModel } from '../training/checkpoint';
import {
  compareReports,
  latencyPerImage,
  median,
  type ModelReport,
  modelCost,
  reportCard,
  savedSizes,
} from './reportCard';

let test: ImageSplit;
beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
  const embedded = (await loadPreparedFromDisk('embedded')).test;
  test = selectRecords(
    embedded,
    Array.from({ length: 100 }, (_, i) => i),
  );
});

describe('modelCost and savedSizes', () => {
  let model: tf.LayersModel;
  beforeAll(() => {
    const input = tf.input({ shape: [8, 8, 3] });
    const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input);
    const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(c1);
    const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, name: 'c2' }).apply(bn);
    const dw = tf.layers.depthwiseConv2d({ kernelSize: 1, name: 'dw' }).apply(c2);
    const flat = tf.layers.flatten().apply(dw);
    const logits = tf.layers.dense({ units: 10, name: 'logits' }).apply(flat) as tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: [logits, flat as tf.SymbolicTensor] });
  });
  afterAll(() => model.dispose());

  it('counts conv and dense multiply-adds from the shapes, 2 FLOPs each, and names the layers it leaves out', () => {
    // c1: 8x8 outputs x 4 filters x (3x3x3) = 6,912. c2 (valid, stride 2): 3x3 outputs x 8 x (3x3x4) = 2,592.
    // logits: 72 x 10 = 720. The depthwise 1x1 (72 multiplies) is not counted, and named.
    const cost = modelCost(model);
    expect(cost.multiplyAddsPerImage).toBe(6912 + 2592 + 720);
    expect(cost.flopsPerImage).toBe(2 * (6912 + 2592 + 720));
    // c1 112, bn 4 x 4 (gamma, beta trainable; moving mean and variance not), c2 296, dw 8 + 8, logits 730.
    expect(cost.parameters).toBe(112 + 16 + 296 + 16 + 730);
    expect(cost.trainableParameters).toBe(112 + 8 + 296 + 16 + 730);
    expect(cost.uncountedLayers).toEqual(['dw (DepthwiseConv2D)']);
  });

  it('gives the bytes of weights.bin as saved: 4 per weight', async () => {
    const sizes = await savedSizes({ model, name: 'tiny', preset: 'tiny', role: 'student' });
    expect(sizes.weightBytes).toBe(4 * (112 + 16 + 296 + 16 + 730));
    expect(sizes.modelJsonBytes).toBeGreaterThan(500);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('the median of no values');
  });
});

describe('latencyPerImage', () => {
  it('runs the model, leaves the warm-up out and takes the median of the timed runs per image', async () => {
    const model = findPreset('cnn-small').build(1);
    // Two clock reads per run: a warm-up of 1,000 ms (left out), then runs of 30, 10 and 20 ms.
    const readings = [0, 1000, 1000, 1030, 1030, 1040, 1040, 1060];
    let read = 0;
    const before = tf.memory().numTensors;
    const perImage = await latencyPerImage(model, test, 64, {
      warmup: 1,
      repeats: 3,
      now: () => readings[read++]!,
    });
    expect(read).toBe(readings.length);
    expect(perImage).toBe(20 / 64);
    expect(tf.memory().numTensors).toBe(before);
    await expect(latencyPerImage(model, test, 1, { repeats: 0 })).rejects.toThrow(
      'repeats must be a whole number of at least 1; got 0',
    );
    model.dispose();
  });
});

describe('compareReports', () => {
  it('divides teacher by student (retention: student by teacher)', () => {
    const row = (over: Partial<ModelReport>): ModelReport => ({
      name: '',
      preset: '',
      parameters: 0,
      trainableParameters: 0,
      multiplyAddsPerImage: 0,
      flopsPerImage: 0,
      weightBytes: 0,
      modelJsonBytes: 0,
      latencyMsPerImage: { batch1: 0, batch64: 0 },
      testAccuracy: 0,
      uncountedLayers: [],
      ...over,
    });
    const teacher = row({
      parameters: 400,
      flopsPerImage: 900,
      weightBytes: 1600,
      latencyMsPerImage: { batch1: 3, batch64: 0.5 },
      testAccuracy: 0.8,
    });
    const student = row({
      parameters: 100,
      flopsPerImage: 90,
      weightBytes: 400,
      latencyMsPerImage: { batch1: 1.5, batch64: 0.05 },
      testAccuracy: 0.6,
    });
    const ratios = compareReports(teacher, student);
    expect(ratios.retention).toBeCloseTo(0.75, 12);
    expect(ratios.compression).toBe(4);
    expect(ratios.parameterRatio).toBe(4);
    expect(ratios.flopsRatio).toBe(10);
    expect(ratios.speedup.batch1).toBe(2);
    expect(ratios.speedup.batch64).toBeCloseTo(10, 12);
  });
});

describe('reportCard', () => {
  it('reports the shipped teacher and a cnn-small student, with the teacher weights.bin size on disk', async () => {
    const teacherDir = new URL('../../../public/teacher/', import.meta.url);
    const weightsOnDisk = await readFile(new URL('weights.bin', teacherDir));
    const { model: teacher } = await loadModel(
      new Uint8Array(await readFile(new URL('model.json', teacherDir))),
      new Uint8Array(weightsOnDisk),
    );
    const student = findPreset('cnn-small').build(3);
    const before = tf.memory().numTensors;
    const card = await reportCard(
      { model: teacher, name: 'shipped teacher', preset: 'vgg-fast', role: 'teacher' },
      { model: student, name: 'untrained student', preset: 'cnn-small', role: 'student' },
      test,
      { warmup: 1, repeats: 3 },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(card.backend).toBe('wasm');
    expect(card.testImages).toBe(100);
    expect(card.teacher.weightBytes).toBe(weightsOnDisk.byteLength);
    expect(card.student.weightBytes).toBe(4 * student.countParams());
    expect(card.teacher.flopsPerImage).toBe(2 * card.teacher.multiplyAddsPerImage);
    // The shipped teacher is 84% on the embedded test split; an untrained student is near chance.
    expect(card.teacher.testAccuracy).toBeGreaterThan(0.6);
    expect(card.student.testAccuracy).toBeLessThan(0.3);
    expect(card.retention).toBeCloseTo(card.student.testAccuracy / card.teacher.testAccuracy, 12);
    expect(card.compression).toBeCloseTo(weightsOnDisk.byteLength / card.student.weightBytes, 12);
    for (const row of [card.teacher, card.student])
      for (const ms of Object.values(row.latencyMsPerImage)) expect(ms).toBeGreaterThan(0);
    // cnn-small by hand: 32x32x16 x 27 + 16x16x32 x 144 + 8x8x64 x 288 + 1,024 x 10 multiply-adds.
    expect(card.student.multiplyAddsPerImage).toBe(442_368 + 1_179_648 + 1_179_648 + 10_240);
    // About a fifth of vgg-fast's arithmetic: at batch 64 it is faster per image.
    expect(card.flopsRatio).toBeGreaterThan(5);
    expect(card.speedup.batch64).toBeGreaterThan(1);
    teacher.dispose();
    student.dispose();
  });
});
