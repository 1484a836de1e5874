/**
 * The training loop, shared by the Worker and the CLI. One step: a batch (seeded shuffle and augmentation),
 * the model's named loss terms, one optimizer update. Loss values stay on the device and are read back in one
 * batched read every `logEvery` steps; a non-finite value stops the run and names its step.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from '../backend/batchNormGradient';
import type { Dataset, ImageSplit } from '../data/cifar10';
import { seededRandom } from '../data/subset';
import type { ImageShape, TeacherAhead } from '../distill/teacherAhead';
import { outputTensors } from '../distill/teacherOutputs';
import { epochOrder, makeBatch } from './batches';
import type { TrainConfig } from './hyperparams';
import { momentumOptimizer } from './momentum';
import { learningRateAt } from './schedule';
import { weightDecayTerm } from './weightDecay';

/** Named loss terms of one step, as scalars on the device. `total` is what the optimizer minimises. */
export type LossTerms = Record<string, tf.Scalar> & { total: tf.Scalar };

/** Computes the loss terms of a batch; methods (plain CE, KD, AKD...) supply their own. */
export type LossFunction = (batch: {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  /** The batch's record indices in the training split (label-efficiency masks, memory banks). */
  indices: readonly number[];
  training: boolean;
  /** The teacher's leading outputs on `images`, computed elsewhere (teacherAhead.ts); the loss runs it when absent. */
  teacher?: readonly tf.Tensor[];
}) => {
  terms: LossTerms;
  logits: tf.Tensor2D;
};

export interface StepLog {
  readonly kind: 'step';
  readonly epoch: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly learningRate: number;
  readonly terms: Readonly<Record<string, number>>;
}

export interface EpochLog {
  readonly kind: 'epoch';
  readonly epoch: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testAccuracy: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly numTensors: number;
}

/** Where a run stands; saved in checkpoints so a resumed run continues with the same curves. */
export interface TrainerState {
  /** Completed epochs. */
  epoch: number;
  /** Steps done inside the current epoch (non-zero only for a checkpoint taken mid-epoch). */
  stepInEpoch: number;
  steps: StepLog[];
  epochs: EpochLog[];
}

export const initialTrainerState = (): TrainerState => ({ epoch: 0, stepInEpoch: 0, steps: [], epochs: [] });

export type RunOutcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'nan'; readonly epoch: number; readonly step: number; readonly term: string };

export interface RunHooks {
  onStep?: (log: StepLog) => void;
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /**
   * Checked between steps: pause/stop/Ctrl-C. May return a promise: the browser's Worker yields to its message
   * queue there, so a pause request can arrive while a backend that never awaits (wasm, cpu) is training.
   */
  shouldStop?: () => boolean | Promise<boolean>;
}

/**
 * Parameters trained beside the model's own weights by one loss: those a method adds and trains with the
 * student's optimizer (FitNet's regressor, CRD's embeddings), and groups with an optimizer of their own
 * (AKD's masks), each updated from the same gradients in the same step.
 */
export interface ExtraParameters {
  readonly withModel?: readonly tf.Variable[];
  readonly ownGroups?: readonly {
    readonly variables: readonly tf.Variable[];
    readonly optimizer: tf.Optimizer;
    /** Runs after each update of this group (e.g. re-normalising masks). */
    readonly afterUpdate?: () => void;
  }[];
}

export function createOptimizer(config: TrainConfig): tf.Optimizer {
  if (config.optimizer === 'adam') return tf.train.adam(config.learningRate);
  return momentumOptimizer(config.learningRate, config.momentum);
}

/**
 * tfjs optimizers offer no common learning-rate setter. Adam reads its `learningRate` field on every update;
 * SGD and momentum multiply by a kept scalar made from the rate at construction, so for them the field alone
 * changes nothing, and their setLearningRate() remakes that scalar (freeing the old one).
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const withSetter = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (withSetter.learningRate === lr) return;
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr;
}

/** Cross-entropy plus coupled L2 weight decay on conv/dense kernels (PyTorch's SGD weight_decay convention). */
export function crossEntropyLoss(model: tf.LayersModel, weightDecay: number): LossFunction {
  // originalName, not name: tfjs suffixes a repeated variable name ('stage1/kernel_1') when a model is built or
  // loaded again in the same process, and such kernels would silently lose their weight decay.
  const kernels = model.trainableWeights.filter((w) => w.originalName.endsWith('/kernel'));
  return ({ images, labels, training }) => {
    const [logits] = model.apply(images, { training }) as tf.Tensor[];
    const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits!) as tf.Scalar;
    const l2 = weightDecayTerm(
      kernels.map((k) => k.read()),
      weightDecay,
    );
    return {
      terms: { ce, weightDecay: l2, total: tf.add(ce, l2) as tf.Scalar },
      logits: logits as tf.Tensor2D,
    };
  };
}

export class Trainer {
  readonly state: TrainerState;
  private readonly variables: tf.Variable[];

  constructor(
    readonly model: tf.LayersModel,
    readonly config: TrainConfig,
    private readonly dataset: Dataset,
    readonly optimizer: tf.Optimizer,
    private readonly loss: LossFunction,
    state: TrainerState = initialTrainerState(),
    private readonly extra: ExtraParameters = {},
  ) {
    this.state = state;
    // tfjs's own BatchNorm gradient tiles statistics to the input's size; ours broadcasts (3x faster steps).
    registerFastBatchNormGradient();
    this.variables = [
      ...model.trainableWeights.map((w) => w.read() as tf.Variable),
      ...(extra.withModel ?? []),
    ];
  }

  /** One optimisation step over the model's variables and any extra groups; returns `total`. */
  private update(objective: () => tf.Scalar): tf.Scalar {
    const groups = this.extra.ownGroups ?? [];
    if (!groups.length) return this.optimizer.minimize(objective, true, this.variables)!;
    const all = [...this.variables, ...groups.flatMap((g) => g.variables)];
    const { value, grads } = tf.variableGrads(objective, all);
    const pick = (variables: readonly tf.Variable[]) =>
      Object.fromEntries(variables.map((v) => [v.name, grads[v.name]!]));
    this.optimizer.applyGradients(pick(this.variables));
    for (const group of groups) {
      group.optimizer.applyGradients(pick(group.variables));
      group.afterUpdate?.();
    }
    tf.dispose(grads);
    return value;
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.dataset.train.count / this.config.batchSize);
  }

  /**
   * Runs the teacher's pass of each next batch on a host while this batch trains (null: the loss runs it);
   * the Distillation that made this trainer owns and closes it.
   */
  teacherAhead: TeacherAhead | null = null;

  /** Step `s` of an epoch: its records and their pixels (augmented by a seed of its own, so the same whenever made). */
  private batchAt(order: readonly number[], epoch: number, s: number) {
    const { batchSize, augment, seed } = this.config;
    const indices = order.slice(s * batchSize, (s + 1) * batchSize);
    const random = augment ? seededRandom(`${seed}/augment/${epoch}/${s}`) : undefined;
    const pixels = makeBatch(this.dataset.train, indices, random);
    const shape: ImageShape = [indices.length, 32, 32, 3];
    // Asked as soon as the batch exists: the host works on it while the step before trains.
    const teacher = this.teacherAhead?.request(pixels, shape) ?? Promise.resolve(null);
    return { indices, pixels, shape, teacher };
  }

  /** Runs epochs until `config.epochs`, a stop request, or a non-finite loss. */
  async run(hooks: RunHooks = {}): Promise<RunOutcome> {
    const { config, state } = this;
    const perEpoch = this.stepsPerEpoch;
    const totalSteps = perEpoch * config.epochs;
    while (state.epoch < config.epochs) {
      const epoch = state.epoch;
      const order = epochOrder(this.dataset.train.count, config.seed, epoch);
      const started = performance.now();
      const startStep = state.stepInEpoch;
      let pending: { step: number; lr: number; terms: Record<string, tf.Scalar> }[] = [];
      let correct = tf.scalar(0, 'int32');
      let lossSum = tf.scalar(0);
      let next = this.batchAt(order, epoch, startStep);
      for (let s = startStep; s < perEpoch; s++) {
        if (await hooks.shouldStop?.()) {
          const flushed = await this.flush(pending, epoch, perEpoch, hooks);
          tf.dispose([correct, lossSum]);
          return flushed ?? { kind: 'stopped' };
        }
        const globalStep = epoch * perEpoch + s;
        const lr = learningRateAt(config, globalStep, totalSteps);
        setLearningRate(this.optimizer, lr);
        const batch = next;
        if (s + 1 < perEpoch) next = this.batchAt(order, epoch, s + 1);
        const { indices } = batch;
        const teacherOutputs = await batch.teacher;
        const images = tf.tensor4d(batch.pixels, batch.shape);
        const labels = tf.tensor1d(
          indices.map((i) => this.dataset.train.labels[i]!),
          'int32',
        );
        const teacher = teacherOutputs ? outputTensors(teacherOutputs) : undefined;
        let kept: Record<string, tf.Scalar> = {};
        let stepCorrect: tf.Scalar | undefined;
        // The update hands back `total` itself; the other terms and the hit count are kept out of its tidy.
        const total = this.update(() => {
          const { terms, logits } = this.loss({
            images,
            labels,
            indices,
            training: true,
            ...(teacher ? { teacher } : {}),
          });
          const { total: objective, ...rest } = terms;
          kept = Object.fromEntries(Object.entries(rest).map(([name, t]) => [name, tf.keep(t)]));
          stepCorrect = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
          return objective;
        });
        kept.total = total;
        tf.dispose([images, labels, ...(teacher ?? []).filter((t) => t)]);
        // In a tidy: tf.mul(x, n) makes a tensor of n, which would otherwise outlive the step.
        const [nextCorrect, nextLoss] = tf.tidy(() => [
          tf.add(correct, stepCorrect!) as tf.Scalar,
          tf.add(lossSum, tf.mul(kept.total!, indices.length)) as tf.Scalar,
        ]);
        tf.dispose([correct, lossSum, stepCorrect!]);
        correct = nextCorrect;
        lossSum = nextLoss;
        pending.push({ step: s, lr, terms: kept });
        state.stepInEpoch = s + 1;
        if (pending.length >= config.logEvery || s === perEpoch - 1) {
          const bad = await this.flush(pending, epoch, perEpoch, hooks);
          pending = [];
          if (bad) {
            tf.dispose([correct, lossSum]);
            return bad;
          }
        }
      }
      const [correctCount, lossTotal] = await Promise.all([correct.data(), lossSum.data()]);
      tf.dispose([correct, lossSum]);
      const seen = this.dataset.train.count - startStep * config.batchSize;
      const testAccuracy = (await this.evaluate(this.dataset.test)).accuracy;
      const seconds = (performance.now() - started) / 1000;
      const log: EpochLog = {
        kind: 'epoch',
        epoch: epoch + 1,
        trainLoss: lossTotal[0]! / seen,
        trainAccuracy: correctCount[0]! / seen,
        testAccuracy,
        seconds,
        imagesPerSecond: seen / seconds,
        numTensors: tf.memory().numTensors,
      };
      state.epoch = epoch + 1;
      state.stepInEpoch = 0;
      state.epochs.push(log);
      await hooks.onEpoch?.(log);
    }
    return { kind: 'done' };
  }

  /** One batched read of the pending steps' terms; returns the first non-finite one, if any. */
  private async flush(
    pending: { step: number; lr: number; terms: Record<string, tf.Scalar> }[],
    epoch: number,
    perEpoch: number,
    hooks: RunHooks,
  ): Promise<RunOutcome | null> {
    if (!pending.length) return null;
    const names = Object.keys(pending[0]!.terms);
    const stacked = tf.stack(pending.flatMap((p) => names.map((n) => p.terms[n]!)));
    const values = await stacked.data();
    stacked.dispose();
    pending.forEach((p) => tf.dispose(Object.values(p.terms)));
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      const terms = Object.fromEntries(names.map((n, j) => [n, values[i * names.length + j]!]));
      const bad = names.find((n) => !Number.isFinite(terms[n]));
      if (bad) return { kind: 'nan', epoch: epoch + 1, step: p.step + 1, term: bad };
      const log: StepLog = {
        kind: 'step',
        epoch: epoch + 1,
        step: p.step + 1,
        stepsPerEpoch: perEpoch,
        learningRate: p.lr,
        terms,
      };
      this.state.steps.push(log);
      hooks.onStep?.(log);
    }
    return null;
  }

  /** Top-1 accuracy on a split (BatchNorm in inference mode); counts stay on the device until one read. */
  async evaluate(split: ImageSplit): Promise<{ accuracy: number; correct: number; total: number }> {
    return evaluateModel(this.model, split, this.config.batchSize);
  }
}

export async function evaluateModel(
  model: tf.LayersModel,
  split: ImageSplit,
  batchSize = 256,
): Promise<{ accuracy: number; correct: number; total: number }> {
  if (split.count === 0) return { accuracy: Number.NaN, correct: 0, total: 0 };
  const count = await countCorrect(
    split,
    (images) => (model.apply(images, { training: false }) as tf.Tensor[])[0] as tf.Tensor2D,
    batchSize,
  );
  return { accuracy: count / split.count, correct: count, total: split.count };
}

/**
 * Test images whose top class under `scores` (logits or probabilities, called inside a tidy) is their label;
 * counts stay on the device until one read.
 */
export async function countCorrect(
  split: ImageSplit,
  scores: (images: tf.Tensor4D) => tf.Tensor2D,
  batchSize = 256,
): Promise<number> {
  let correct = tf.scalar(0, 'int32');
  for (let start = 0; start < split.count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, split.count - start) }, (_, i) => start + i);
    const next = tf.tidy(() => {
      const images = tf.tensor4d(makeBatch(split, indices), [indices.length, 32, 32, 3]);
      const labels = tf.tensor1d(
        indices.map((i) => split.labels[i]!),
        'int32',
      );
      return tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(scores(images), 1), labels), 'int32')));
    }) as tf.Scalar;
    correct.dispose();
    correct = next;
  }
  const count = (await correct.data())[0]!;
  correct.dispose();
  return count;
}
