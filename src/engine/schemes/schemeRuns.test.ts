/**
 * Schemes run end to end on a small real upload (wasm): born-again generation g distils from generation g-1
 * (the teacher's weights are that generation's), a mutual-learning run paused, saved and restored into a new
 * run gives the same losses as one straight run (every model's checkpoint, optimizer slots and position), and
 * online distillation's auxiliary heads come back from the student's checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { preparedRecords } from '../../testing/labs';
import { initBackend } from '../backend/initBackend';
import type { Dataset } from '../data/cifar10';
import { datasetFromUploads } from '../data/upload';
import { loadRunCheckpoint } from '../run/runCheckpoint';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../training/hyperparams';
import { assistantStages, checkChain } from './assistant';
import { bornAgainStages } from './bornAgain';
import { memorySchemeStorage, MultiRun, type MultiSpec } from './multiRun';
import type { MultiStepLog } from './multiTrainer';
import { mutualScheme } from './mutual';
import { MutualLab } from './mutualLab';
import { onlineScheme } from './online';
import { ensembleAccuracy, StagedRun } from './stagedRun';

let dataset: Dataset;

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
  dataset = datasetFromUploads([
    { name: 'data_batch_1.bin', bytes: await preparedRecords('embedded/train.bin', 64) },
    { name: 'test_batch.bin', bytes: await preparedRecords('embedded/test.bin', 32) },
  ]);
});

const config = (model: string, role: 'student' | 'teacher' = 'student'): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  role,
  model,
  epochs: 1,
  batchSize: 16,
  learningRate: 0.02,
  logEvery: 1,
  seed: 4,
});

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));
const nextTurn = () => Promise.resolve();
const quiet = { step: () => undefined, epoch: () => undefined, boundary: () => undefined };

describe('born-again generations', () => {
  it("generation g's teacher is generation g-1 (weights compared), and an ensemble of them scores", async () => {
    const storage = memorySchemeStorage();
    const stages = bornAgainStages(config('cnn-small'), 3);
    expect(stages.map((s) => [s.name, s.settings.method, s.teacher])).toEqual([
      ['gen1', 'ce', null],
      ['gen2', 'kd', 'gen1'],
      ['gen3', 'kd', 'gen2'],
    ]);
    const run = await StagedRun.start('born-again', stages.slice(0, 2), dataset, null, storage);
    expect(await run.run(quiet, nextTurn)).toEqual({ kind: 'done' });
    const gen1 = weightsOf(run.model('gen1')!);
    const saved = await loadRunCheckpoint(storage.slot('gen1'));
    expect(weightsOf(saved.model)).toEqual(gen1);
    saved.model.dispose();
    expect(weightsOf(run.teacherFor(1)!.model)).toEqual(gen1);
    expect(weightsOf(run.model('gen2')!)).not.toEqual(gen1);
    const gen2 = await loadRunCheckpoint(storage.slot('gen2'));
    expect(gen2.method).toMatchObject({
      method: 'kd',
      params: { temperature: 3, alpha: 0.5 },
      teacher: { preset: 'cnn-small', source: 'stage gen1' },
    });
    gen2.model.dispose();
    tf.dispose(gen2.optimizerSlots.map((s) => s.tensor));
    // Restored from storage, generation 2's teacher is again generation 1's saved weights.
    const restored = await StagedRun.restore(storage, dataset, null);
    expect(restored.isFinished).toBe(true);
    expect(weightsOf(restored.teacherFor(1)!.model)).toEqual(gen1);
    const ensemble = await ensembleAccuracy([run.model('gen1')!, run.model('gen2')!], dataset.test);
    expect(ensemble).toBeGreaterThanOrEqual(0);
    expect(ensemble).toBeLessThanOrEqual(1);
    restored.dispose();
    run.dispose();
  }, 120_000);

  it('refuses generations outside 2-5 by name', () => {
    expect(() => bornAgainStages(config('cnn-small'), 6)).toThrow(
      'generations must be a whole number between 2 and 5; got 6',
    );
  });
});

describe('teacher-assistant chain', () => {
  it('the direct student gets as many steps as the chain, and the assistant must sit between by size', () => {
    const stages = assistantStages(
      { ...config('resnet8'), epochs: 2 },
      { ...config('cnn-small'), epochs: 2 },
    );
    expect(stages.map((s) => [s.name, s.teacher, s.settings.train.epochs])).toEqual([
      ['assistant', 'given', 2],
      ['student', 'assistant', 2],
      ['direct', 'given', 4],
    ]);
    expect(stages.every((s) => s.settings.params.temperature === 4 && s.settings.params.alpha === 0.5)).toBe(
      true,
    );
    expect(() => checkChain('vgg-fast', 'resnet8', 'cnn-small')).not.toThrow();
    expect(() => checkChain('vgg-fast', 'cnn-small', 'resnet8')).toThrow(
      'the assistant must be a middle-sized model: cnn-small has',
    );
  });
});

const mutualSpec: MultiSpec = {
  scheme: mutualScheme,
  params: { temperature: 3, weight: 1 },
  members: [
    { name: 'student1', config: config('cnn-small'), initSeed: 4 },
    { name: 'student2', config: config('resnet8'), initSeed: 5 },
  ],
};

async function steps(run: MultiRun, pauseAt?: number): Promise<MultiStepLog[]> {
  const logs: MultiStepLog[] = [];
  const end = await run.run(
    {
      step: (log) => logs.push(log),
      epoch: () => undefined,
      boundary: (p) => {
        if (p.stepInEpoch === pauseAt) run.requestPause();
      },
    },
    nextTurn,
  );
  expect(end.kind).toBe(pauseAt === undefined ? 'done' : 'paused');
  return logs;
}

describe('multi-model runs', () => {
  it('mutual: 2 steps + save + restore + 2 steps = 4 straight steps, every model and term', async () => {
    const straightRun = await MultiRun.start(mutualSpec, dataset, memorySchemeStorage());
    const straight = await steps(straightRun);
    straightRun.dispose();
    const before = tf.memory().numTensors;
    const storage = memorySchemeStorage();
    const first = await MultiRun.start(mutualSpec, dataset, storage);
    const part1 = await steps(first, 2);
    first.dispose();
    const second = await MultiRun.restore(storage, dataset, [mutualScheme]);
    expect(second.position()).toMatchObject({ completedEpochs: 0, stepInEpoch: 2 });
    const part2 = await steps(second);
    const accuracies = await second.evaluate(dataset.test);
    second.dispose();
    const resumed = [...part1, ...part2];
    expect(resumed.length).toBe(4);
    expect(straight.length).toBe(4);
    for (let i = 0; i < 4; i++)
      for (const name of ['student1', 'student2']) {
        const a = resumed[i]!.models[name]!.terms;
        const b = straight[i]!.models[name]!.terms;
        expect(Object.keys(a).sort()).toEqual(['ce', 'kl', 'total', 'weightDecay']);
        for (const term of Object.keys(b)) expect(a[term]).toBeCloseTo(b[term]!, 5);
      }
    expect(Object.keys(accuracies)).toEqual(['student1', 'student2']);
    // Each model's own checkpoint, with its own curve.
    const saved = await loadRunCheckpoint(storage.slot('student2'));
    expect(saved.run.config.model).toBe('resnet8');
    // The end-of-run checkpoint: its steps and its epoch (with the test accuracy measured above).
    expect(saved.run.state.steps.length).toBe(4);
    expect(saved.run.state.epochs[0]!.testAccuracy).toBe(accuracies.student2);
    saved.model.dispose();
    tf.dispose(saved.optimizerSlots.map((s) => s.tensor));
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(4);
  }, 120_000);

  it("online: teacher and student terms by name; the student's auxiliary heads restore from its checkpoint", async () => {
    const storage = memorySchemeStorage();
    const spec: MultiSpec = {
      scheme: onlineScheme,
      params: { temperature: 3, ce: 0.5, kd: 0.5, aux: 0.1 },
      members: [
        { name: 'teacher', config: config('vgg-fast', 'teacher'), initSeed: 4 },
        { name: 'student', config: config('cnn-small'), initSeed: 5 },
      ],
    };
    const run = await MultiRun.start(spec, dataset, storage);
    const logs = await steps(run, 1);
    expect(Object.keys(logs[0]!.models.teacher!.terms).sort()).toEqual(['ce', 'total', 'weightDecay']);
    const s = logs[0]!.models.student!.terms;
    expect(Object.keys(s).sort()).toEqual(['aux', 'ce', 'kd', 'total', 'weightDecay']);
    expect(s.total).toBeCloseTo(0.5 * s.ce! + 0.5 * s.kd! + 0.1 * s.aux! + s.weightDecay!, 4);
    const heads = run.members[1]!.extra.map((v) => Array.from(v.dataSync()));
    run.dispose();
    const saved = await loadRunCheckpoint(storage.slot('student'));
    expect(Object.keys(saved.methodState).sort()).toEqual([
      'aux1/bias',
      'aux1/kernel',
      'aux2/bias',
      'aux2/kernel',
      'aux3/bias',
      'aux3/kernel',
    ]);
    saved.model.dispose();
    tf.dispose(saved.optimizerSlots.map((t) => t.tensor));
    const restored = await MultiRun.restore(storage, dataset, [onlineScheme]);
    expect(restored.members[1]!.extra.map((v) => Array.from(v.dataSync()))).toEqual(heads);
    restored.dispose();
  }, 120_000);
});

describe("the lab's mutual-learning run", () => {
  it('refuses a teacher preset, an unknown one and a bad epoch count, every reason at once', async () => {
    const lab = new MutualLab();
    const listener = { step: () => undefined, epoch: () => undefined };
    await expect(
      lab.start(
        dataset,
        { models: ['vgg-fast', 'resnet9'], epochs: 0, seed: 1, batchSize: 16 },
        listener,
        nextTurn,
      ),
    ).rejects.toThrow(
      /vgg-fast is a teacher model, not a student; unknown model preset "resnet9".*epochs must be between 1 and 1,000/,
    );
    expect(lab.isRunning).toBe(false);
  });

  it('trains two students together and reports both final accuracies', async () => {
    const lab = new MutualLab();
    let steps = 0;
    const result = await lab.start(
      dataset,
      { models: ['cnn-small', 'cnn-small'], epochs: 1, seed: 2, batchSize: 32 },
      { step: () => (steps += 1), epoch: () => undefined },
      nextTurn,
    );
    expect(steps).toBe(2);
    expect(result.end).toBe('done');
    expect(result.models).toEqual([
      { name: 'student1', preset: 'cnn-small' },
      { name: 'student2', preset: 'cnn-small' },
    ]);
    for (const name of ['student1', 'student2']) {
      expect(result.testAccuracy[name]).toBeGreaterThanOrEqual(0);
      expect(result.testAccuracy[name]).toBeLessThanOrEqual(1);
    }
  }, 60_000);
});
