import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderStore } from '../../cli/checkpointDir';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { initBackend } from '../backend/initBackend';
import { type Dataset, selectRecords } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { epochOrder, makeBatch } from './batches';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { DEFAULT_TRAIN_CONFIG, parseTrainConfig, type TrainConfig } from './hyperparams';
import { learningRateAt } from './schedule';
import {
  createOptimizer,
  crossEntropyLoss,
  type EpochLog,
  type LossFunction,
  type RunHooks,
  type StepLog,
  Trainer,
  type TrainerState,
} from './trainer';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let embedded: Dataset;
let tmp: string;

/** The first `train` / `test` images of the embedded set. */
const subset = (train: number, test: number): Dataset => ({
  ...embedded,
  train: selectRecords(embedded.train, range(train)),
  test: selectRecords(embedded.test, range(test)),
});

const configWith = (patch: Partial<TrainConfig>): TrainConfig =>
  parseTrainConfig({
    ...DEFAULT_TRAIN_CONFIG,
    role: 'student',
    model: 'cnn-small',
    epochs: 2,
    batchSize: 32,
    logEvery: 3,
    ...patch,
  });

interface Run {
  readonly trainer: Trainer;
  /** Frees the model and the optimizer (and its slots). */
  readonly dispose: () => void;
}

/** A fresh cnn-small trainer; `wrapLoss` may wrap the plain cross-entropy loss. */
function newRun(
  config: TrainConfig,
  dataset: Dataset,
  options: {
    wrapLoss?: (loss: LossFunction) => LossFunction;
    state?: TrainerState;
    model?: tf.LayersModel;
  } = {},
): Run {
  const model = options.model ?? findPreset(config.model).build(config.seed);
  const optimizer = createOptimizer(config);
  const plain = crossEntropyLoss(model, config.weightDecay);
  const trainer = new Trainer(
    model,
    config,
    dataset,
    optimizer,
    options.wrapLoss ? options.wrapLoss(plain) : plain,
    options.state,
  );
  return {
    trainer,
    dispose: () => {
      model.dispose();
      optimizer.dispose();
    },
  };
}

/** Epoch logs without their timing fields. */
const untimed = (logs: readonly EpochLog[]) =>
  logs.map((log) => {
    const { seconds, imagesPerSecond, ...rest } = log;
    expect(seconds).toBeGreaterThan(0);
    expect(imagesPerSecond).toBeGreaterThan(0);
    return rest;
  });

beforeAll(async () => {
  const report = await initBackend('wasm');
  expect(report.backend).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
  embedded = await loadPreparedFromDisk('embedded');
  tmp = await mkdtemp(join(tmpdir(), 'distillery-trainer-test-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('Trainer', () => {
  it('gives the identical curve for the same seed on the same backend, and another for another seed', async () => {
    const dataset = subset(256, 128);
    const curveOf = async (seed: number) => {
      // numTensors counts the whole engine; relative to the start, runs can be compared. (tfjs' momentum
      // optimizer leaves its learning-rate scalar behind on dispose(), so absolute counts creep by one a run.)
      const base = tf.memory().numTensors;
      const run = newRun(configWith({ seed }), dataset);
      const steps: StepLog[] = [];
      expect(await run.trainer.run({ onStep: (log) => steps.push(log) })).toEqual({ kind: 'done' });
      const epochs = untimed(run.trainer.state.epochs).map((log) => ({
        ...log,
        numTensors: log.numTensors - base,
      }));
      const result = { steps, epochs };
      run.dispose();
      return result;
    };
    const first = await curveOf(1);
    const second = await curveOf(1);
    expect(first.steps).toHaveLength(2 * 8);
    expect(first.steps.map((s) => `${s.epoch}/${s.step}`)).toEqual(
      [1, 2].flatMap((epoch) => range(8).map((s) => `${epoch}/${s + 1}`)),
    );
    expect(Object.keys(first.steps[0]!.terms)).toEqual(['ce', 'weightDecay', 'total']);
    for (const step of first.steps) {
      expect(step.terms.total).toBeCloseTo(step.terms.ce! + step.terms.weightDecay!, 5);
    }
    expect(first.epochs).toHaveLength(2);
    expect(second).toEqual(first);

    const other = await curveOf(2);
    expect(other.steps.map((s) => s.terms.total)).not.toEqual(first.steps.map((s) => s.terms.total));
    expect(other.epochs).not.toEqual(first.epochs);
  });

  it('applies the schedule to SGD/momentum updates (the optimizer keeps its rate in a tensor)', async () => {
    // A one-layer model and plain SGD (momentum 0, no decay): after the run, each weight must equal the result
    // of w -= lr(step) * grad by hand with the schedule's rates.
    const dataset = subset(64, 16);
    const config = configWith({
      epochs: 1,
      batchSize: 16,
      momentum: 0,
      weightDecay: 0,
      schedule: 'step',
      learningRate: 0.5,
      augment: false,
    });
    // Outputs [logits, features], as the presets' models (evaluation reads the first).
    const build = () => {
      const input = tf.input({ shape: [32, 32, 3] });
      const pooled = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
      const dense = tf.layers.dense({
        units: 10,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      });
      return tf.model({ inputs: input, outputs: [dense.apply(pooled) as tf.SymbolicTensor, pooled] });
    };
    const logitsOf = (model: tf.LayersModel, images: tf.Tensor4D) => (model.apply(images) as tf.Tensor[])[0]!;
    const lossOf = (model: tf.LayersModel, images: tf.Tensor4D, labels: tf.Tensor1D) =>
      tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logitsOf(model, images)) as tf.Scalar;

    const model = build();
    const optimizer = createOptimizer(config);
    const loss: LossFunction = ({ images, labels }) => ({
      terms: { total: lossOf(model, images, labels) },
      logits: logitsOf(model, images) as tf.Tensor2D,
    });
    const trainer = new Trainer(model, config, dataset, optimizer, loss);
    const reference = build();
    reference.setWeights(model.getWeights());
    expect(await trainer.run()).toEqual({ kind: 'done' });
    expect(trainer.state.steps.map((s) => s.learningRate)).toEqual([0.5, 0.5, 0.05, 0.005]);

    const order = epochOrder(dataset.train.count, config.seed, 0);
    const variables = reference.trainableWeights.map((w) => w.read() as tf.Variable);
    range(4).forEach((s) => {
      const indices = order.slice(s * 16, (s + 1) * 16);
      const lr = learningRateAt(config, s, 4);
      tf.tidy(() => {
        const images = tf.tensor4d(makeBatch(dataset.train, indices), [16, 32, 32, 3]);
        const labels = tf.tensor1d(
          indices.map((i) => dataset.train.labels[i]!),
          'int32',
        );
        const { grads } = tf.variableGrads(() => lossOf(reference, images, labels), variables);
        variables.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name]!, lr))));
      });
    });
    const trained = model.getWeights().map((w) => Array.from(w.dataSync()));
    reference.getWeights().forEach((w, i) => {
      const values = Array.from(w.dataSync());
      const difference = values.reduce((m, v, j) => Math.max(m, Math.abs(v - trained[i]![j]!)), 0);
      expect(difference).toBeLessThan(1e-6);
    });
    model.dispose();
    reference.dispose();
    optimizer.dispose();
  });

  it('holds no more tensors from one epoch to the next, with or without a checkpoint save per epoch', async () => {
    const dataset = subset(128, 64);
    for (const save of [false, true]) {
      const config = configWith({ epochs: 4, seed: 3 });
      const run = newRun(config, dataset);
      const store = folderStore(join(tmp, `leak-${save}`));
      const atEpochEnd: number[] = [];
      const afterSave: number[] = [];
      const outcome = await run.trainer.run({
        onEpoch: async (log) => {
          expect(log.numTensors).toBe(tf.memory().numTensors);
          atEpochEnd.push(tf.memory().numTensors);
          if (save) {
            await saveCheckpoint(store, run.trainer.model, run.trainer.optimizer, {
              config,
              state: run.trainer.state,
            });
            afterSave.push(tf.memory().numTensors);
          }
        },
      });
      expect(outcome).toEqual({ kind: 'done' });
      expect(atEpochEnd).toHaveLength(4);
      // Epoch 1 creates the optimizer's slots; after that the count must stay put.
      expect(atEpochEnd.slice(2)).toEqual([atEpochEnd[1], atEpochEnd[1]]);
      if (save) expect(afterSave).toEqual(atEpochEnd);
      run.dispose();
    }
  });

  it('stops at the first non-finite loss, names its 1-based step and term, and logs nothing after', async () => {
    const dataset = subset(256, 64);
    for (const [poisoned, expectedTerm] of [
      [['total'], 'total'],
      [['ce', 'total'], 'ce'],
    ] as const) {
      let calls = 0;
      const steps: StepLog[] = [];
      let epochs = 0;
      const run = newRun(configWith({ logEvery: 3 }), dataset, {
        wrapLoss: (plain) => (batch) => {
          calls += 1;
          const { terms, logits } = plain(batch);
          if (calls < 5) return { terms, logits };
          const bad = (name: string, t: tf.Scalar) => (poisoned.includes(name as never) ? tf.mul(t, NaN) : t);
          return {
            terms: Object.fromEntries(Object.entries(terms).map(([n, t]) => [n, bad(n, t)])) as typeof terms,
            logits,
          };
        },
      });
      const before = tf.memory().numTensors;
      const outcome = await run.trainer.run({
        onStep: (log) => steps.push(log),
        onEpoch: () => {
          epochs += 1;
        },
      });
      expect(outcome).toEqual({ kind: 'nan', epoch: 1, step: 5, term: expectedTerm });
      expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
      expect(run.trainer.state.steps).toEqual(steps);
      expect(epochs).toBe(0);
      // Steps 5 and 6 ran (one read covers 4-6); their terms were freed along with the running sums, leaving only
      // the optimizer's new momentum slots (one per trainable weight).
      expect(tf.memory().numTensors - before).toBe(run.trainer.model.trainableWeights.length);
      run.dispose();
    }
  });

  it('reads loss values in batches of logEvery steps, yet logs every step in order', async () => {
    const dataset = subset(160, 32);
    const events: string[] = [];
    const run = newRun(configWith({ logEvery: 4, batchSize: 16, epochs: 2 }), dataset, {
      wrapLoss: (plain) => (batch) => {
        events.push('L');
        return plain(batch);
      },
    });
    const onStep: RunHooks['onStep'] = (log) => {
      expect(log.stepsPerEpoch).toBe(10);
      events.push(`${log.epoch}.${log.step}`);
    };
    expect(await run.trainer.run({ onStep })).toEqual({ kind: 'done' });
    // 10 steps an epoch: reads after steps 4 and 8, and at the epoch's end (steps 9-10).
    const epoch = (e: number) =>
      ['L', 'L', 'L', 'L', `${e}.1`, `${e}.2`, `${e}.3`, `${e}.4`]
        .concat(['L', 'L', 'L', 'L', `${e}.5`, `${e}.6`, `${e}.7`, `${e}.8`])
        .concat(['L', 'L', `${e}.9`, `${e}.10`]);
    expect(events).toEqual([...epoch(1), ...epoch(2)]);
    run.dispose();
  });

  it('stops between steps, and a resumed run from the checkpoint continues with the same losses', async () => {
    const dataset = subset(256, 64);
    const config = configWith({ epochs: 2, seed: 9, logEvery: 4 });

    const whole = newRun(config, dataset);
    expect(await whole.trainer.run()).toEqual({ kind: 'done' });
    const expected = whole.trainer.state.steps;
    const expectedEpochs = untimed(whole.trainer.state.epochs);
    expect(expected).toHaveLength(16);
    whole.dispose();

    // Stop after 11 steps: epoch 2, 3 steps in (not a multiple of logEvery, so the stop itself flushes).
    let checks = 0;
    const first = newRun(config, dataset);
    const stopped = await first.trainer.run({ shouldStop: () => ++checks > 11 });
    expect(stopped).toEqual({ kind: 'stopped' });
    expect(first.trainer.state.epoch).toBe(1);
    expect(first.trainer.state.stepInEpoch).toBe(3);
    expect(first.trainer.state.steps).toEqual(expected.slice(0, 11));
    const store = folderStore(join(tmp, 'resume'));
    await saveCheckpoint(store, first.trainer.model, first.trainer.optimizer, {
      config,
      state: first.trainer.state,
    });
    first.dispose();

    const loaded = await loadCheckpoint(store);
    expect(loaded.run.config).toEqual(config);
    expect(loaded.run.state.stepInEpoch).toBe(3);
    const resumed = newRun(loaded.run.config, dataset, { model: loaded.model, state: loaded.run.state });
    await resumed.trainer.optimizer.setWeights(loaded.optimizerSlots);
    const resumedSteps: StepLog[] = [];
    expect(await resumed.trainer.run({ onStep: (log) => resumedSteps.push(log) })).toEqual({ kind: 'done' });
    expect(resumedSteps.map((s) => `${s.epoch}.${s.step}`)).toEqual(
      expected.slice(11).map((s) => `${s.epoch}.${s.step}`),
    );
    resumedSteps.forEach((log, i) => {
      const want = expected[11 + i]!;
      expect(log.learningRate).toBe(want.learningRate);
      for (const name of Object.keys(want.terms)) {
        expect(Math.abs(log.terms[name]! - want.terms[name]!)).toBeLessThanOrEqual(1e-5);
      }
    });
    expect(resumed.trainer.state.steps).toHaveLength(16);
    expect(resumed.trainer.state.epoch).toBe(2);
    // Epoch 1's log came through the checkpoint; the interrupted epoch's log covers only the steps after the
    // resume (so its train loss differs), but it ends with the same model, so the same test accuracy.
    const [epoch1, epoch2] = untimed(resumed.trainer.state.epochs);
    expect({ ...epoch1, numTensors: 0 }).toEqual({ ...expectedEpochs[0], numTensors: 0 });
    expect(epoch2!.epoch).toBe(2);
    expect(epoch2!.testAccuracy).toBe(expectedEpochs[1]!.testAccuracy);
    resumed.dispose();
  });
});
