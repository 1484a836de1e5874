/**
 * The T x alpha sweep through the session, as the Worker runs it: real short runs on a small real upload from an
 * imported teacher; each cell stops at its budget and is scored on the test split; the Distillation panel's
 * saved run is left alone; a cancelled sweep resumed on its remaining cells gives the uninterrupted results.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRandomTeacher, uploadLab } from '../testing/labs';
import { type SweepCellResult, type SweepCellSpec, type SweepRequest } from './config/sweep';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './training/hyperparams';
import { LabSession } from './session';

const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  role: 'student',
  model: 'cnn-small',
  learningRate: 0.02,
  batchSize: 64,
};
const cells: (SweepCellSpec | null)[] = [
  null,
  { temperature: 1, alpha: 0.5 },
  { temperature: 4, alpha: 0.9 },
];
const request = (asked: (SweepCellSpec | null)[], steps = 3): SweepRequest => ({
  cells: asked,
  steps,
  train,
});

/** Runs a sweep, keeping what it reports; `onStarted` may act when a cell begins. */
async function sweep(lab: LabSession, asked: SweepRequest, onStarted: (index: number) => void = () => {}) {
  const done: { index: number; result: SweepCellResult }[] = [];
  const started: number[] = [];
  const end = await lab.runSweep(asked, {
    cellStarted: (index) => {
      started.push(index);
      onStarted(index);
    },
    cellStep: () => undefined,
    cellDone: (index, result) => done.push({ index, result }),
  });
  return { end, done, started };
}

describe('LabSession.runSweep', () => {
  beforeAll(async () => {
    await new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) }).initBackend(
      'wasm',
    );
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('runs every cell to its budget and scores it; cancel keeps the finished ones; resume gives the same results', async () => {
    // 128 training images in batches of 64: 2 steps per epoch; 100 test images.
    const lab = await uploadLab(128, 100);
    await importRandomTeacher(lab);
    // The Distillation panel's run, paused after its first epoch: the sweep must not touch its slot.
    await lab.startRun(
      'distill',
      { method: 'kd', params: {}, labelledFraction: 1, train: { ...train, epochs: 2 } },
      {
        step: () => undefined,
        epoch: () => lab.pauseRun('distill'),
        boundary: () => undefined,
      },
    );
    const saved = await lab.savedRun('distill');
    expect(saved).not.toBeNull();
    const before = tf.memory().numTensors;

    const full = await sweep(lab, request(cells));
    expect(full.end).toEqual({ kind: 'done', done: 3 });
    expect(full.done.map((d) => d.index)).toEqual([0, 1, 2]);
    for (const { index, result } of full.done) {
      expect(result.cell).toEqual(cells[index]);
      expect(result.steps).toBe(3);
      // A share of the 100 test images.
      expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(result.testAccuracy).toBeLessThanOrEqual(1);
      expect(Math.abs(result.testAccuracy * 100 - Math.round(result.testAccuracy * 100))).toBeLessThan(1e-9);
    }
    // No tensor left behind by the cells (models, optimizers, the methods' state).
    expect(tf.memory().numTensors).toBe(before);
    expect(await lab.savedRun('distill')).toEqual(saved);

    // Cancelled as the second cell starts: the baseline is kept, the rest is not reported.
    const cut = await sweep(lab, request(cells), (index) => {
      if (index === 1) lab.cancelSweep();
    });
    expect(cut.end).toEqual({ kind: 'cancelled', done: 1 });
    expect(cut.done.map((d) => d.index)).toEqual([0]);
    expect(cut.done[0]!.result.testAccuracy).toBe(full.done[0]!.result.testAccuracy);
    // Resume: the remaining cells, each the same seeded run as in the uninterrupted sweep.
    const rest = await sweep(lab, request(cells.slice(1)));
    expect(rest.end).toEqual({ kind: 'done', done: 2 });
    expect(rest.done.map((d) => d.result.testAccuracy)).toEqual(
      full.done.slice(1).map((d) => d.result.testAccuracy),
    );
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('refuses a sweep without a teacher, bad values by name, and other runs while it trains', async () => {
    const lab = await uploadLab(128, 20);
    await expect(
      lab.runSweep(request(cells), { cellStarted() {}, cellStep() {}, cellDone() {} }),
    ).rejects.toThrow('there is no teacher to distil from');
    await importRandomTeacher(lab);
    await expect(
      lab.runSweep(request([{ temperature: 0, alpha: 0.5 }]), {
        cellStarted() {},
        cellStep() {},
        cellDone() {},
      }),
    ).rejects.toThrow('temperature must be between 0.5 and 20; got 0');
    let refusal = '';
    const end = await lab.runSweep(request([{ temperature: 2, alpha: 0.5 }], 2), {
      cellStarted: () => undefined,
      cellStep: () => {
        if (refusal) return;
        refusal = 'none';
        lab
          .startRun(
            'student',
            { method: 'ce', params: {}, labelledFraction: 1, train },
            { step() {}, epoch() {}, boundary() {} },
          )
          .catch((error: Error) => (refusal = error.message));
      },
      cellDone: () => undefined,
    });
    expect(end.kind).toBe('done');
    expect(refusal).toBe('a sweep is running; cancel it before you start the student');
  }, 60_000);
});
