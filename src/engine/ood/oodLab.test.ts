import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk, PREPARED_DATA_DIR } from '../../cli/dataFiles';
import { initBackend } from '../backend/initBackend';
import { type Dataset, selectRecords } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { loadTeacher } from '../training/labModels';
import { type OodLab as OodLabType, OodLab, type OodModel, type OodProgress } from './oodLab';

const TEACHER_DIR = join(PREPARED_DATA_DIR, '..', 'teacher');
const readPrepared = async (path: string) => new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path)));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const noYield = () => Promise.resolve();

describe('OodLab on the shipped teacher and a fresh student (small slices of the embedded set)', () => {
  let dataset: Dataset;
  let teacher: OodModel;
  let student: OodModel;
  let lab: OodLabType;

  beforeAll(async () => {
    await initBackend('wasm');
    const full = await loadPreparedFromDisk('embedded');
    // 400 training records (anchors: every class present) and 100 test images.
    dataset = {
      ...full,
      id: 'embedded-slice',
      train: selectRecords(full.train, range(400)),
      test: selectRecords(full.test, range(100)),
    };
    const loaded = await loadTeacher(
      await readFile(join(TEACHER_DIR, 'model.json')),
      await readFile(join(TEACHER_DIR, 'weights.bin')),
      'teacher',
    );
    teacher = { key: 'teacher#1', label: 'Teacher', role: 'teacher', model: loaded.model, ownAnchors: null };
    student = {
      key: 'student#1',
      label: 'Fresh student',
      role: 'student',
      model: findPreset('cnn-small').build(1),
      ownAnchors: [0, 1, 2],
    };
    lab = new OodLab(readPrepared);
  });

  afterAll(() => {
    teacher.model.dispose();
    student.model.dispose();
  });

  it('scores both models on the test split, MNIST and noise, with every view, progress to the end, no leaks', async () => {
    const before = tf.memory().numTensors;
    const progress: OodProgress[] = [];
    const result = await lab.run(
      { models: [teacher.key, student.key], sets: ['mnist', 'gaussian'] },
      [teacher, student],
      teacher,
      dataset,
      (p) => progress.push(p),
      noYield,
    );
    expect(result).not.toBeNull();
    const { rows, models, sets } = result!;
    expect(sets.map((s) => [s.id, s.count])).toEqual([
      ['mnist', 100],
      ['gaussian', 100],
    ]);
    expect(rows).toHaveLength(2 * 2 * 4);
    const teacherMnist = (score: string) =>
      rows.find((r) => r.model === teacher.key && r.set === 'mnist' && r.score === score)!;
    // The shipped teacher separates MNIST from CIFAR-10 well by anchor uncertainty (0.99 on 2,000 images).
    expect(teacherMnist('anchorU').auroc).toBeGreaterThan(0.9);
    for (const row of rows) {
      for (const v of [row.auroc, row.aupr, row.fpr95]) expect(v >= 0 && v <= 1).toBe(true);
      const area = (bins: typeof row.histogram, pick: 'inDensity' | 'outDensity') =>
        bins.reduce((s, b) => s + b[pick] * (b.to - b.from), 0);
      expect(area(row.histogram, 'inDensity')).toBeCloseTo(1, 6);
      expect(area(row.histogram, 'outDensity')).toBeCloseTo(1, 6);
      expect(row.roc[0]).toEqual([0, 0]);
      expect(row.roc[row.roc.length - 1]).toEqual([1, 1]);
    }
    const [t, s] = models;
    expect(t!.accuracy).toBeGreaterThan(0.7);
    expect(t!.ece).toBeGreaterThan(0);
    expect(t!.ece).toBeLessThan(0.2);
    expect(t!.reliability.reduce((n, b) => n + b.count, 0)).toBe(100);
    expect(t!.fidelity).toBeNull();
    expect(t!.anchors).toMatch(/teacher's features over the training split \(10, chosen afresh\)/);
    expect(s!.anchors).toMatch(/its own AKD anchors \(3/);
    // An untrained student agrees with the teacher about as often as chance, and its KL is large.
    expect(s!.fidelity!.agreement).toBeLessThan(0.5);
    expect(s!.fidelity!.meanKl).toBeGreaterThan(0.1);
    expect(Number.isFinite(t!.misclassification.msp)).toBe(true);
    // Progress rises to its total: 400 anchor records + 2 models x 3 sets x 100 images.
    const last = progress[progress.length - 1]!;
    expect(last.total).toBe(400 + 600);
    expect(last.done).toBe(last.total);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('answers again from its cache, per (model, set): only a new set is scored', async () => {
    const progress: OodProgress[] = [];
    const result = await lab.run(
      { models: [teacher.key], sets: ['mnist', 'uniform'] },
      [teacher, student],
      teacher,
      dataset,
      (p) => progress.push(p),
      noYield,
    );
    expect(progress[progress.length - 1]!.total).toBe(100);
    expect(result!.rows).toHaveLength(2 * 4);
  });

  it('cancels between batches and resolves null; a bad upload is refused and the sets stay', async () => {
    const before = tf.memory().numTensors;
    const fresh = new OodLab(readPrepared);
    const result = await fresh.run(
      { models: [teacher.key], sets: ['uniform'] },
      [teacher],
      teacher,
      dataset,
      (p) => {
        if (p.done > 0) fresh.cancel();
      },
      noYield,
    );
    expect(result).toBeNull();
    expect(fresh.isRunning).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    // Cancel also reaches into the anchor pass, at its next progress report.
    let reports = 0;
    const another = new OodLab(readPrepared);
    const during = await another.run(
      { models: [teacher.key], sets: ['uniform'] },
      [teacher],
      teacher,
      dataset,
      (p) => {
        if (p.stage.startsWith('choosing anchors') && p.done > 0) another.cancel();
      },
      noYield,
      async (_chooser, train, progress) => {
        for (let done = 100; done <= train.count; done += 100) {
          reports++;
          progress(done, train.count);
        }
        return [0];
      },
    );
    expect(during).toBeNull();
    expect(reports).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    const sets = fresh.sets(100).map((s) => s.id);
    expect(() => fresh.addUpload([{ name: 'x.txt', bytes: new Uint8Array(1) }])).toThrow(
      /^x\.txt: not a file/,
    );
    expect(fresh.sets(100).map((s) => s.id)).toEqual(sets);
    await expect(
      fresh.run({ models: [teacher.key], sets: ['svhn'] }, [teacher], teacher, dataset, () => {}, noYield),
    ).rejects.toThrow(/unknown OoD set "svhn"; sets: mnist, gaussian, uniform/);
  });
});
