import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { initBackend } from '../backend/initBackend';
import { type Dataset, selectRecords } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { createDistillation, type DistillationOptions } from '../run/runSpec';
import { DEFAULT_TRAIN_CONFIG, parseTrainConfig } from '../training/hyperparams';
import type { EpochLog, StepLog } from '../training/trainer';
import { TeacherAhead, type TeacherHost, teacherRunner } from './teacherAhead';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let dataset: Dataset;
let teacher: tf.LayersModel;

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
  const embedded = await loadPreparedFromDisk('embedded');
  dataset = {
    ...embedded,
    train: selectRecords(embedded.train, range(96)),
    test: selectRecords(embedded.test, range(20)),
  };
  teacher = findPreset('vgg-fast').build(7);
});

afterAll(() => teacher.dispose());

/** The runner in this thread behind the host interface, counting its passes; `failAt`: the pass that throws. */
function hostInThisThread(options: { failAt?: number; failLoad?: boolean } = {}) {
  const runner = teacherRunner();
  const host = {
    passes: 0,
    outputs: [] as (readonly number[])[],
    closed: false,
    async load(artifacts: tf.io.ModelArtifacts, outputs: readonly number[]) {
      if (options.failLoad) throw new Error('no room for a teacher');
      host.outputs.push(outputs);
      return runner.load(artifacts, outputs);
    },
    async run(images: Float32Array, shape: [number, number, number, number]) {
      host.passes++;
      if (host.passes === options.failAt) throw new Error('the host went away');
      return runner.run(images, shape);
    },
    close() {
      host.closed = true;
    },
  } satisfies TeacherHost & Record<string, unknown>;
  return host;
}

/** Two epochs of `method` (3 augmented steps of 32 each): every step's terms, the epochs, the final weights. */
async function distil(method: string, options: DistillationOptions = {}) {
  const train = parseTrainConfig({
    ...DEFAULT_TRAIN_CONFIG,
    role: 'student',
    model: 'cnn-small',
    epochs: 2,
    batchSize: 32,
    logEvery: 1,
    augment: true,
  });
  const run = await createDistillation(
    { method, params: {}, labelledFraction: 1, train },
    dataset,
    { model: teacher },
    undefined,
    options,
  );
  const steps: StepLog[] = [];
  const epochs: EpochLog[] = [];
  try {
    await run.trainer.run({ onStep: (log) => steps.push(log), onEpoch: (log) => void epochs.push(log) });
    const weights = await Promise.all(run.student.getWeights().map((w) => w.data()));
    const ahead = run.trainer.teacherAhead;
    // Read before the dispose, which closes the host.
    return { steps: steps.map((s) => s.terms), epochs, weights, ahead, failure: ahead?.failure ?? null };
  } finally {
    run.dispose();
  }
}

describe('the teacher one batch ahead', () => {
  // KD reads the logits only, AKD the features too, FitNet the logits and one stage map (its hint layer's).
  it.each([
    ['kd', [0]],
    ['akd', [0, 1]],
    ['fitnet', [0, 3]],
  ])('%s trains to the same values with its teacher on a host (outputs %j sent)', async (method, outputs) => {
    const inline = await distil(method);
    const host = hostInThisThread();
    const ahead = await distil(method, { teacherHost: () => host });
    expect(host.outputs).toEqual([outputs]);
    // Every step's teacher came from the host: 3 steps per epoch, 2 epochs.
    expect(host.passes).toBe(6);
    expect(host.closed).toBe(true);
    expect(ahead.ahead).not.toBeNull();
    expect(ahead.failure).toBeNull();
    expect(ahead.steps).toEqual(inline.steps);
    expect(ahead.weights).toEqual(inline.weights);
    // No tensor is left behind by the arrays turned into tensors each step.
    expect(ahead.epochs[1]!.numTensors).toBe(ahead.epochs[0]!.numTensors);
  });

  it('goes on in line, with the same values, when the host fails mid-run', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const inline = await distil('kd');
      const host = hostInThisThread({ failAt: 3 });
      const ahead = await distil('kd', { teacherHost: () => host });
      expect(ahead.failure).toBe('the host went away');
      expect(host.passes).toBe(3);
      expect(ahead.steps).toEqual(inline.steps);
      expect(ahead.weights).toEqual(inline.weights);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('the host went away'));
    } finally {
      warn.mockRestore();
    }
  });

  it('runs the teacher in line when its host does not start, and says why', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const host = hostInThisThread({ failLoad: true });
      const run = await distil('kd', { teacherHost: () => host });
      expect(run.ahead).toBeNull();
      expect(host.closed).toBe(true);
      expect(run.steps).toHaveLength(6);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('no room for a teacher'));
    } finally {
      warn.mockRestore();
    }
  });

  it('is not used by plain CE, which runs no teacher', async () => {
    const host = hostInThisThread();
    const run = await distil('ce', { teacherHost: () => host });
    expect(run.ahead).toBeNull();
    expect(host.outputs).toEqual([]);
  });

  it("answers null after closing, without a warning, and the host's runner refuses before a teacher is loaded", async () => {
    await expect(teacherRunner().run(new Float32Array(3072), [1, 32, 32, 3])).rejects.toThrow(
      'no teacher loaded',
    );
    const host = hostInThisThread();
    const ahead = await TeacherAhead.start(() => host, teacher, [0]);
    expect(ahead).not.toBeNull();
    ahead!.close();
    expect(host.closed).toBe(true);
    await expect(ahead!.request(new Float32Array(3072), [1, 32, 32, 3])).resolves.toBeNull();
  });

  // The core taken for the teacher (teacherCore.ts: a thread of wasm's pool) goes back exactly once, however
  // the teacher stops running ahead.
  it('gives its core back once: when it does not start, when its host fails, when it closes', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const images = new Float32Array(2 * 3072);
    try {
      const notStarted = vi.fn();
      expect(
        await TeacherAhead.start(() => hostInThisThread({ failLoad: true }), teacher, [0], notStarted),
      ).toBeNull();
      expect(notStarted).toHaveBeenCalledTimes(1);

      const failed = vi.fn();
      const failing = await TeacherAhead.start(() => hostInThisThread({ failAt: 2 }), teacher, [0], failed);
      expect(await failing!.request(images, [2, 32, 32, 3])).not.toBeNull();
      expect(failed).not.toHaveBeenCalled();
      expect(await failing!.request(images, [2, 32, 32, 3])).toBeNull();
      failing!.close();
      expect(failed).toHaveBeenCalledTimes(1);

      const closed = vi.fn();
      const closing = await TeacherAhead.start(() => hostInThisThread(), teacher, [0], closed);
      closing!.close();
      closing!.close();
      expect(closed).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});
