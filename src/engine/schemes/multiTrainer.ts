/**
 * The step loop of the schemes that train several models in the same steps (deep mutual learning, online
 * distillation): every model sees the same batch (the Trainer's seeded order and augmentation: batches.ts),
 * the scheme's joint loss returns each model's named terms, one backward pass differentiates the sum of the
 * models' totals, and each model's optimizer applies its own gradients with its own learning-rate schedule.
 * Loss values stay on the device and are read back in one batched read every `logEvery` steps, as the Trainer
 * does. See docs/design.md, "Schemes".
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from '../backend/batchNormGradient';
import type { Dataset } from '../data/cifar10';
import { seededRandom } from '../data/subset';
import { epochOrder, makeBatch } from '../training/batches';
import type { TrainConfig } from '../training/hyperparams';
import { learningRateAt } from '../training/schedule';
import { weightDecayTerm } from '../training/weightDecay';
import {
  type EpochLog,
  evaluateModel,
  type LossTerms,
  type RunOutcome,
  setLearningRate,
  type StepLog,
  type TrainerState,
} from '../training/trainer';

/** One model of a multi-model run. */
export interface Member {
  /** How the logs and checkpoints name it ('student1', 'teacher'). */
  readonly name: string;
  readonly model: tf.LayersModel;
  /** Its own settings; epochs, batch size, seed, augmentation and log interval are shared by every member. */
  readonly config: TrainConfig;
  readonly optimizer: tf.Optimizer;
  /** Variables trained with this member's optimizer besides its model's (online's auxiliary heads). */
  readonly extra: readonly tf.Variable[];
  /** Its own curves and position (all members stand at the same position). */
  readonly state: TrainerState;
}

/** Each member's named terms (with `total`) and logits for one batch, by member name. */
export type JointLoss = (batch: {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  indices: readonly number[];
  training: boolean;
}) => Record<string, { terms: LossTerms; logits: tf.Tensor2D }>;

export interface MultiStepLog {
  readonly kind: 'step';
  readonly epoch: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** By member name: its learning rate and every named term of this step. */
  readonly models: Readonly<
    Record<string, { learningRate: number; terms: Readonly<Record<string, number>> }>
  >;
}

export interface MultiEpochLog {
  readonly kind: 'epoch';
  readonly epoch: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly numTensors: number;
  readonly models: Readonly<
    Record<string, { trainLoss: number; trainAccuracy: number; testAccuracy: number }>
  >;
}

export interface MultiHooks {
  onStep?: (log: MultiStepLog) => void;
  onEpoch?: (log: MultiEpochLog) => void | Promise<void>;
  shouldStop?: () => boolean | Promise<boolean>;
}

/** A non-finite term names its model: `student2.kl`. */
export type MultiOutcome = RunOutcome;

const SHARED = ['epochs', 'batchSize', 'seed', 'augment', 'logEvery'] as const;

interface Pending {
  step: number;
  lrs: number[];
  terms: Record<string, tf.Scalar>[];
}

export class MultiTrainer {
  private readonly variables: tf.Variable[][];
  readonly config: TrainConfig;

  constructor(
    readonly members: readonly Member[],
    private readonly dataset: Dataset,
    private readonly loss: JointLoss,
  ) {
    if (members.length < 1) throw new Error('a multi-model run needs at least one model');
    const names = new Set(members.map((m) => m.name));
    if (names.size !== members.length) throw new Error('the models of a multi-model run need distinct names');
    this.config = members[0]!.config;
    for (const member of members)
      for (const key of SHARED)
        if (member.config[key] !== this.config[key])
          throw new Error(
            `every model of a multi-model run shares ${key}; ${member.name} has ${String(member.config[key])}, ${members[0]!.name} ${String(this.config[key])}`,
          );
    registerFastBatchNormGradient();
    this.variables = members.map((m) => [
      ...m.model.trainableWeights.map((w) => w.read() as tf.Variable),
      ...m.extra,
    ]);
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.dataset.train.count / this.config.batchSize);
  }

  /** The shared position (every member's state moves together). */
  get state(): TrainerState {
    return this.members[0]!.state;
  }

  private setPosition(epoch: number, stepInEpoch: number): void {
    for (const m of this.members) {
      m.state.epoch = epoch;
      m.state.stepInEpoch = stepInEpoch;
    }
  }

  /** Runs epochs until the shared `epochs`, a stop request, or a non-finite loss. */
  async run(hooks: MultiHooks = {}): Promise<MultiOutcome> {
    const { config, members } = this;
    const perEpoch = this.stepsPerEpoch;
    const totalSteps = perEpoch * config.epochs;
    const train = this.dataset.train;
    while (this.state.epoch < config.epochs) {
      const epoch = this.state.epoch;
      const order = epochOrder(train.count, config.seed, epoch);
      const started = performance.now();
      const startStep = this.state.stepInEpoch;
      let pending: Pending[] = [];
      let sums = members.map(() => ({ correct: tf.scalar(0, 'int32'), loss: tf.scalar(0) }));
      const release = () => tf.dispose(sums.flatMap((s) => [s.correct, s.loss]));
      for (let s = startStep; s < perEpoch; s++) {
        if (await hooks.shouldStop?.()) {
          const flushed = await this.flush(pending, epoch, perEpoch, hooks);
          release();
          return flushed ?? { kind: 'stopped' };
        }
        const globalStep = epoch * perEpoch + s;
        const lrs = members.map((m) => learningRateAt(m.config, globalStep, totalSteps));
        members.forEach((m, i) => setLearningRate(m.optimizer, lrs[i]!));
        const indices = order.slice(s * config.batchSize, (s + 1) * config.batchSize);
        const random = config.augment ? seededRandom(`${config.seed}/augment/${epoch}/${s}`) : undefined;
        const images = tf.tensor4d(makeBatch(train, indices, random), [indices.length, 32, 32, 3]);
        const labels = tf.tensor1d(
          indices.map((i) => train.labels[i]!),
          'int32',
        );
        const kept: Record<string, tf.Scalar>[] = [];
        const hits: tf.Scalar[] = [];
        const all = this.variables.flat();
        const { value, grads } = tf.variableGrads(() => {
          const out = this.loss({ images, labels, indices, training: true });
          members.forEach((m) => {
            const own = out[m.name];
            if (!own) throw new Error(`the scheme's loss returned no terms for ${m.name}`);
            kept.push(Object.fromEntries(Object.entries(own.terms).map(([n, t]) => [n, tf.keep(t)])));
            hits.push(tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(own.logits, 1), labels), 'int32'))));
          });
          return tf.addN(members.map((m) => out[m.name]!.terms.total)) as tf.Scalar;
        }, all);
        value.dispose();
        members.forEach((m, i) => {
          const own: tf.NamedTensorMap = {};
          for (const v of this.variables[i]!) if (grads[v.name]) own[v.name] = grads[v.name]!;
          m.optimizer.applyGradients(own);
        });
        tf.dispose([grads, images, labels]);
        const next = tf.tidy(() =>
          sums.map((sum, i) => ({
            correct: tf.add(sum.correct, hits[i]!) as tf.Scalar,
            loss: tf.add(sum.loss, tf.mul(kept[i]!.total!, indices.length)) as tf.Scalar,
          })),
        );
        release();
        tf.dispose(hits);
        sums = next;
        pending.push({ step: s, lrs, terms: kept });
        this.setPosition(epoch, s + 1);
        if (pending.length >= config.logEvery || s === perEpoch - 1) {
          const bad = await this.flush(pending, epoch, perEpoch, hooks);
          pending = [];
          if (bad) {
            release();
            return bad;
          }
        }
      }
      const stacked = tf.tidy(() => tf.stack(sums.flatMap((s) => [tf.cast(s.correct, 'float32'), s.loss])));
      const read = await stacked.data();
      stacked.dispose();
      release();
      const seen = train.count - startStep * config.batchSize;
      const seconds0 = (performance.now() - started) / 1000;
      const models: Record<string, { trainLoss: number; trainAccuracy: number; testAccuracy: number }> = {};
      for (let i = 0; i < members.length; i++) {
        const m = members[i]!;
        const testAccuracy = (await evaluateModel(m.model, this.dataset.test, config.batchSize)).accuracy;
        models[m.name] = {
          trainLoss: read[2 * i + 1]! / seen,
          trainAccuracy: read[2 * i]! / seen,
          testAccuracy,
        };
      }
      const seconds = (performance.now() - started) / 1000;
      const numTensors = tf.memory().numTensors;
      for (const m of members) {
        const own = models[m.name]!;
        const log: EpochLog = {
          kind: 'epoch',
          epoch: epoch + 1,
          ...own,
          seconds,
          imagesPerSecond: seen / seconds0,
          numTensors,
        };
        m.state.epochs.push(log);
      }
      this.setPosition(epoch + 1, 0);
      await hooks.onEpoch?.({
        kind: 'epoch',
        epoch: epoch + 1,
        seconds,
        imagesPerSecond: seen / seconds0,
        numTensors,
        models,
      });
    }
    return { kind: 'done' };
  }

  /** One batched read of the pending steps' terms of every member; returns the first non-finite one. */
  private async flush(
    pending: Pending[],
    epoch: number,
    perEpoch: number,
    hooks: MultiHooks,
  ): Promise<MultiOutcome | null> {
    if (!pending.length) return null;
    const names = this.members.map((_, i) => Object.keys(pending[0]!.terms[i]!));
    const stacked = tf.stack(pending.flatMap((p) => p.terms.flatMap((t, i) => names[i]!.map((n) => t[n]!))));
    const values = await stacked.data();
    stacked.dispose();
    pending.forEach((p) => p.terms.forEach((t) => tf.dispose(Object.values(t))));
    let at = 0;
    for (const p of pending) {
      const models: Record<string, { learningRate: number; terms: Record<string, number> }> = {};
      for (let i = 0; i < this.members.length; i++) {
        const member = this.members[i]!;
        const terms: Record<string, number> = {};
        for (const n of names[i]!) terms[n] = values[at++]!;
        const bad = names[i]!.find((n) => !Number.isFinite(terms[n]));
        if (bad) return { kind: 'nan', epoch: epoch + 1, step: p.step + 1, term: `${member.name}.${bad}` };
        models[member.name] = { learningRate: p.lrs[i]!, terms };
      }
      for (const member of this.members) {
        const own = models[member.name]!;
        const log: StepLog = {
          kind: 'step',
          epoch: epoch + 1,
          step: p.step + 1,
          stepsPerEpoch: perEpoch,
          learningRate: own.learningRate,
          terms: own.terms,
        };
        member.state.steps.push(log);
      }
      hooks.onStep?.({ kind: 'step', epoch: epoch + 1, step: p.step + 1, stepsPerEpoch: perEpoch, models });
    }
    return null;
  }
}

/** Cross-entropy of a model's logits and its coupled L2 weight decay, as crossEntropyLoss names them. */
export function plainTerms(
  model: tf.LayersModel,
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  weightDecay: number,
): { ce: tf.Scalar; weightDecay: tf.Scalar } {
  // originalName: see crossEntropyLoss (a model built twice in a process gets suffixed variable names).
  const kernels = model.trainableWeights.filter((w) => w.originalName.endsWith('/kernel'));
  const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar;
  const decay = weightDecayTerm(
    kernels.map((k) => k.read()),
    weightDecay,
  );
  return { ce, weightDecay: decay };
}
