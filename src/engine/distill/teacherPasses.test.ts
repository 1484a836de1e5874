import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeError } from '../backend/kernelTestData';
import { loadPreparedFromDisk, PREPARED_DATA_DIR } from '../../cli/dataFiles';
import { initBackend } from '../backend/initBackend';
import { type ImageSplit, selectRecords } from '../data/cifar10';
import { OodLab, type OodModel } from '../ood/oodLab';
import { loadTeacher } from '../training/labModels';
import { recordImages } from './anchors';
import { passAccuracy, passRows, TeacherPasses } from './teacherPasses';

const TEACHER_DIR = join(PREPARED_DATA_DIR, '..', 'teacher');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

class Stop extends Error {}

describe('the shared teacher pass (the shipped teacher, real images)', () => {
  let teacher: tf.LayersModel;
  let split: ImageSplit;

  beforeAll(async () => {
    await initBackend('wasm');
    const full = await loadPreparedFromDisk('embedded');
    split = selectRecords(full.test, range(160));
    teacher = (
      await loadTeacher(
        await readFile(join(TEACHER_DIR, 'model.json')),
        await readFile(join(TEACHER_DIR, 'weights.bin')),
        'teacher',
      )
    ).model;
  });

  afterAll(() => teacher.dispose());

  it("gives the teacher's own logits and features, and their accuracy", async () => {
    const before = tf.memory().numTensors;
    const pass = await new TeacherPasses().of(teacher, 'fixed', split, { batchSize: 128 });
    const [logits, features] = tf.tidy(() => {
      const out = teacher.apply(recordImages(split, range(split.count)), { training: false }) as tf.Tensor[];
      return [out[0]!.dataSync(), out[1]!.dataSync()];
    });
    expect([pass.count, pass.classes, pass.dim]).toEqual([160, 10, 256]);
    expect(relativeError(pass.logits, logits!)).toBeLessThan(1e-4);
    expect(relativeError(pass.features, features!)).toBeLessThan(1e-4);
    const predicted = tf.tidy(() => tf.argMax(tf.tensor2d(logits!, [160, 10]), 1).dataSync());
    const correct = predicted.filter((p, i) => p === split.labels[i]).length;
    expect(passAccuracy(pass, split.labels)).toBe(correct / 160);
    // Rows as tensors, as a model's first two outputs come.
    const rows = passRows(pass, 10, 13);
    expect(rows.map((r) => r.shape)).toEqual([
      [3, 10],
      [3, 256],
    ]);
    expect(Array.from(rows[1]!.dataSync())).toEqual(Array.from(pass.features.subarray(2560, 3328)));
    tf.dispose(rows);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs each image once per teacher version and split, and goes on where a stopped pass left off', async () => {
    const passes = new TeacherPasses();
    const before = tf.memory().numTensors;
    let batches = 0;
    const stopAfterTwo = async () => {
      batches += 1;
      if (batches === 2) throw new Stop('a run started');
    };
    await expect(
      passes.of(teacher, 'fixed', split, { batchSize: 64, yieldToHost: stopAfterTwo }),
    ).rejects.toThrow(Stop);
    expect(passes.imagesRun).toBe(128);
    expect(tf.memory().numTensors).toBe(before);
    const progress: number[][] = [];
    const pass = await passes.of(teacher, 'fixed', split, {
      batchSize: 64,
      onProgress: (done, total) => progress.push([done, total]),
    });
    // The remaining 32 images only, reported from 128 on.
    expect(passes.imagesRun).toBe(160);
    expect(progress).toEqual([
      [160, 160],
      [160, 160],
    ]);
    const whole = await new TeacherPasses().of(teacher, 'fixed', split);
    expect(relativeError(pass.logits, whole.logits)).toBeLessThan(1e-6);
    // Held: no image runs again; a new weights version or another split runs again.
    expect(await passes.of(teacher, 'fixed', split)).toBe(pass);
    expect(passes.imagesRun).toBe(160);
    await passes.of(teacher, 'epoch 2', split);
    expect(passes.imagesRun).toBe(320);
    await passes.of(teacher, 'epoch 2', selectRecords(split, range(50)));
    expect(passes.imagesRun).toBe(370);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('lets the trust panel score the teacher from a shared pass, with the same numbers as its own run', async () => {
    const full = await loadPreparedFromDisk('embedded');
    const dataset = { ...full, id: 'slice', train: selectRecords(full.train, range(100)), test: split };
    const model: OodModel = { key: 't', label: 'Teacher', role: 'teacher', model: teacher, ownAnchors: null };
    const readPrepared = async (path: string) =>
      new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path)));
    const passes = new TeacherPasses();
    const sharedSplits: ImageSplit[] = [];
    const shared = new OodLab(readPrepared, (m, s, onProgress) => {
      sharedSplits.push(s);
      return m.model === teacher ? passes.of(teacher, 'fixed', s, { onProgress }) : null;
    });
    const own = new OodLab(readPrepared);
    const request = { models: ['t'], sets: ['gaussian'] };
    const quiet = () => undefined;
    const yieldNow = () => Promise.resolve();
    // The measurement's pass over the test split, before the panel runs.
    await passes.of(teacher, 'fixed', split);
    const a = await shared.run(request, [model], model, dataset, quiet, yieldNow);
    const b = await own.run(request, [model], model, dataset, quiet, yieldNow);
    // Only the noise set was run for the panel: the test split came from the pass already made.
    expect(passes.imagesRun).toBe(160 + 160);
    expect(sharedSplits).toContain(split);
    const rowOf = (r: typeof a) => r!.rows.find((row) => row.score === 'anchorU')!;
    expect(a!.models[0]!.accuracy).toBe(b!.models[0]!.accuracy);
    for (const key of ['auroc', 'aupr', 'fpr95'] as const)
      for (const score of ['msp', 'entropy', 'energy', 'anchorU'])
        expect(a!.rows.find((r) => r.score === score)![key]).toBeCloseTo(
          b!.rows.find((r) => r.score === score)![key],
          4,
        );
    expect(rowOf(a).auroc).toBeGreaterThan(0.5);
  });
});
