/**
 * One run pipeline: a run paused at a step, saved, restored into a fresh LabRun (as after a reload or a CLI
 * --resume) and run on gives the same losses as one uninterrupted run: model, optimizer slots, the method's
 * state (AKD's masks, CRD's memory bank and heads, DKD's warm-up) and the position all round-trip.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedRecords } from '../../testing/labs';
import type { Dataset } from '../data/cifar10';
import { datasetFromUploads } from '../data/upload';
import { initBackend } from '../backend/initBackend';
import { findMethod } from '../distill/registry';
import { findPreset } from '../models/presets';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../training/hyperparams';
import { memoryRunSlot, type RunSlot } from '../training/savedRuns';
import type { StepLog } from '../training/trainer';
import { LabRun, type RunTeacher } from './labRun';
import { defaultParams } from '../distill/method';
import type { RunListener, RunPosition } from './runTypes';

let dataset: Dataset;
let teacher: RunTeacher;

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
  dataset = datasetFromUploads([
    { name: 'data_batch_1.bin', bytes: await preparedRecords('embedded/train.bin', 128) },
    { name: 'test_batch.bin', bytes: await preparedRecords('embedded/test.bin', 32) },
  ]);
  teacher = { model: findPreset('vgg-fast').build(3), preset: 'vgg-fast', source: 'seeded test teacher' };
});

afterAll(() => teacher.model.dispose());

const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  role: 'student',
  model: 'cnn-small',
  epochs: 2,
  batchSize: 32,
  learningRate: 0.02,
  logEvery: 1,
  seed: 5,
};

/** CRD with fewer negatives than its 4096: the same code path, a test-sized cost. */
const SMALLER: Readonly<Record<string, Readonly<Record<string, number>>>> = { crd: { negatives: 64 } };

const settingsFor = (method: string) => ({
  method,
  params: { ...defaultParams(findMethod(method)), ...SMALLER[method] },
  labelledFraction: 1,
  train,
});

const stepsDone = (p: RunPosition) => p.completedEpochs * p.stepsPerEpoch + p.stepInEpoch;

/** A listener that keeps the step logs and may act at a boundary. */
function recorder(run: () => LabRun, atBoundary: (done: number) => void = () => undefined) {
  const steps: StepLog[] = [];
  const saved: RunPosition[] = [];
  const listener: RunListener = {
    step: (log) => steps.push(log),
    epoch: () => undefined,
    boundary: (position) => {
      atBoundary(stepsDone(position));
      void run;
    },
    saved: (position) => saved.push(position),
  };
  return { steps, saved, listener };
}

const nextTurn = () => Promise.resolve();

async function straightRun(method: string): Promise<StepLog[]> {
  const run = await LabRun.start(settingsFor(method), dataset, teacher, memoryRunSlot());
  const record = recorder(() => run);
  expect(await run.run(record.listener, nextTurn)).toEqual({ kind: 'done' });
  run.dispose();
  return record.steps;
}

/** Pauses after `pauseAt` steps, restores from the slot into a new run, and runs that one to the end. */
async function resumedRun(method: string, pauseAt: number, slot: RunSlot): Promise<StepLog[]> {
  const first = await LabRun.start(settingsFor(method), dataset, teacher, slot);
  const before = recorder(
    () => first,
    (done) => {
      if (done === pauseAt) first.requestPause();
    },
  );
  expect(await first.run(before.listener, nextTurn)).toEqual({ kind: 'paused' });
  first.dispose();
  const second = await LabRun.restore(slot, dataset, teacher);
  expect(second.position()).toMatchObject({ completedEpochs: 0, stepInEpoch: pauseAt });
  const after = recorder(() => second);
  expect(await second.run(after.listener, nextTurn)).toEqual({ kind: 'done' });
  second.dispose();
  // The restored run carries the first part's logs in its state; the listener saw only the second part.
  expect(before.steps.length + after.steps.length).toBe(8);
  return [...before.steps, ...after.steps];
}

const closeTo = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

describe('LabRun: N steps + save + restore + M steps = N + M steps', () => {
  for (const method of ['ce', 'kd', 'akd', 'crd', 'dkd']) {
    it(`${method}: the same losses, every term, to 1e-6 relative`, async () => {
      const straight = await straightRun(method);
      const tensorsBefore = tf.memory().numTensors;
      const resumed = await resumedRun(method, 3, memoryRunSlot());
      expect(resumed.map((s) => `${s.epoch}/${s.step}`)).toEqual(straight.map((s) => `${s.epoch}/${s.step}`));
      for (let i = 0; i < straight.length; i++) {
        const a = resumed[i]!.terms;
        const b = straight[i]!.terms;
        expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
        for (const name of Object.keys(b))
          expect(
            closeTo(a[name]!, b[name]!),
            `${method} step ${i + 1} ${name}: ${a[name]} vs ${b[name]}`,
          ).toBe(true);
      }
      // Two runs built and freed: nothing of theirs stays (tfjs's SGD-with-momentum keeps one scalar each).
      expect(tf.memory().numTensors - tensorsBefore).toBeLessThanOrEqual(4);
    }, 120_000);
  }

  it('writes a checkpoint every checkpointSeconds of training, mid-epoch, that restores where it stood', async () => {
    let clock = 0;
    const slot = memoryRunSlot();
    const run = await LabRun.start(settingsFor('kd'), dataset, teacher, slot, {
      checkpointSeconds: 30,
      now: () => clock,
    });
    const record = recorder(
      () => run,
      () => {
        clock += 10_000;
      },
    );
    expect(await run.run(record.listener, nextTurn)).toEqual({ kind: 'done' });
    run.dispose();
    const midEpoch = record.saved.filter((p) => p.stepInEpoch > 0);
    expect(midEpoch.length).toBeGreaterThanOrEqual(2);
    // Epoch ends are saved too; the last save is the end of the run.
    expect(record.saved.at(-1)).toMatchObject({ completedEpochs: 2, stepInEpoch: 0 });
    const restored = await LabRun.restore(slot, dataset, teacher);
    expect(restored.isFinished).toBe(true);
    restored.dispose();
  });

  it('refuses to resume a distillation without its teacher, or from another preset, naming it', async () => {
    const slot = memoryRunSlot();
    const run = await LabRun.start(settingsFor('kd'), dataset, teacher, slot);
    const record = recorder(
      () => run,
      (done) => {
        if (done === 1) run.requestPause();
      },
    );
    await run.run(record.listener, nextTurn);
    run.dispose();
    await expect(LabRun.restore(slot, dataset, null)).rejects.toThrow(
      'distils from a vgg-fast teacher (seeded test teacher); load that teacher first',
    );
    const other = { model: teacher.model, preset: 'resnet20', source: 'x' };
    await expect(LabRun.restore(slot, dataset, other)).rejects.toThrow(
      'but the current teacher is a resnet20',
    );
  });
});
