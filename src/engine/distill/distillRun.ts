/**
 * A distillation run: a student preset trained from the current teacher by one method of the registry. The
 * method instance supplies the loss (every named term) and its extra parameters (AKD's masks with their own
 * optimizer); the Trainer does the rest exactly as for a plain training run. `DistillRun` adds what the lab's
 * Worker needs around it (pause/stop requests, step timing, a message for a non-finite loss); the CLI drives
 * the pieces from `createDistillation` directly and saves checkpoints itself.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { ConfigError, parseTrainConfig, type TrainConfig } from '../training/hyperparams';
import { StepTimer } from '../training/stepTimer';
import { createOptimizer, initialTrainerState, type RunHooks, Trainer } from '../training/trainer';
import type { RunEnd, RunListener, RunPosition, YieldToHost } from '../training/trainingRun';
import type { AnchorMasks, DistillMethod, MethodInstance, MethodParam, ParamValues } from './method';
import { MethodParamError, validateParams } from './method';
import { DISTILL_METHODS, findMethod } from './registry';

/** A method as the UI lists it: plain data (the UI builds each method's controls from `params`). */
export interface DistillMethodInfo {
  readonly id: string;
  readonly label: string;
  readonly summary: string;
  readonly defaultsFrom: string;
  readonly params: readonly MethodParam[];
  /** Its runs have anchors with learned masks, which the anchor gallery shows live. */
  readonly learnsAnchorMasks: boolean;
}

export const distillMethodInfos = (): DistillMethodInfo[] =>
  DISTILL_METHODS.map(({ id, label, summary, defaultsFrom, params, learnsAnchorMasks }) => ({
    id,
    label,
    summary,
    defaultsFrom,
    params: params.map((p) => ({ ...p })),
    learnsAnchorMasks: learnsAnchorMasks ?? false,
  }));

/** What a distillation is asked for: the method, its parameters (raw), the labels used, the student's settings. */
export interface DistillConfig {
  readonly method: string;
  /** By parameter name; numbers or numeric strings; left-out ones take their defaults. */
  readonly params: Readonly<Record<string, number | string>>;
  /** Share of training labels used, class-balanced (1, 0.2, 0 in the lab). */
  readonly labelledFraction: number;
  /** The student's training settings; `role` must be 'student' and `model` a student preset. */
  readonly train: TrainConfig;
}

/** A checked DistillConfig: every parameter present and in range. */
export interface DistillSettings {
  readonly method: string;
  readonly params: ParamValues;
  readonly labelledFraction: number;
  readonly train: TrainConfig;
}

/** Bad distillation settings; the message lists every problem with its reason. */
export class DistillConfigError extends Error {
  override readonly name = 'DistillConfigError';
}

/**
 * Checks a distillation request with the engine's own reasons (validateParams, parseTrainConfig); throws
 * DistillConfigError listing every problem.
 */
export function parseDistillConfig(input: DistillConfig): DistillSettings {
  const problems: string[] = [];
  let method: DistillMethod | null = null;
  try {
    method = findMethod(input.method);
  } catch (error) {
    problems.push((error as Error).message);
  }
  let params: ParamValues = {};
  if (method) {
    try {
      params = validateParams(method, input.params);
    } catch (error) {
      if (!(error instanceof MethodParamError)) throw error;
      problems.push(error.message);
    }
  }
  const fraction = input.labelledFraction;
  if (!(typeof fraction === 'number' && fraction >= 0 && fraction <= 1))
    problems.push(`labelled fraction must be between 0 and 1; got ${String(fraction)}`);
  let train: TrainConfig | null = null;
  try {
    train = parseTrainConfig({ ...input.train, role: 'student' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(error.message);
  }
  if (train) {
    try {
      const preset = findPreset(train.model);
      if (preset.role !== 'student') problems.push(`${preset.id} is a ${preset.role} model, not a student`);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length || !method || !train) throw new DistillConfigError(problems.join('; '));
  return { method: method.id, params, labelledFraction: fraction, train };
}

/** The pieces of a distillation, ready to train: the caller runs `trainer` and calls `dispose` at the end. */
export interface Distillation {
  readonly student: tf.LayersModel;
  readonly instance: MethodInstance;
  readonly optimizer: tf.Optimizer;
  readonly trainer: Trainer;
  /** Seconds the method took to set up (AKD: choosing its anchors with the teacher over the training split). */
  readonly setupSeconds: number;
  /** Training records whose labels the run uses. */
  readonly labelledCount: number;
  /** Frees the method instance and the optimizer; `keepStudent` leaves the student model alive. */
  dispose(keepStudent?: boolean): void;
}

/**
 * Builds the student from its preset (seeded), the method instance bound to the student, the teacher and the
 * training split, and a Trainer over them. `teacher` may be null only for `ce`, which never uses it.
 */
export async function createDistillation(
  settings: DistillSettings,
  dataset: Dataset,
  teacher: tf.LayersModel | null,
): Promise<Distillation> {
  if (dataset.train.count === 0)
    throw new Error(`${dataset.name} has no training images; choose a dataset with a training split`);
  const method = findMethod(settings.method);
  if (!teacher && method.id !== 'ce')
    throw new Error(
      `${method.label} needs a teacher; load the shipped teacher, import one, or train one in the Teacher panel`,
    );
  const { train: config } = settings;
  const student = findPreset(config.model).build(config.seed);
  const started = performance.now();
  let instance: MethodInstance;
  try {
    instance = await method.create(
      {
        student,
        // `ce` never runs the teacher; the context only needs a model with the student's outputs.
        teacher: teacher ?? student,
        train: dataset.train,
        seed: config.seed,
        batchSize: config.batchSize,
        labelledFraction: settings.labelledFraction,
        weightDecay: config.weightDecay,
      },
      settings.params,
    );
  } catch (error) {
    student.dispose();
    throw error;
  }
  const setupSeconds = (performance.now() - started) / 1000;
  const optimizer = createOptimizer(config);
  const trainer = new Trainer(
    student,
    config,
    dataset,
    optimizer,
    instance.loss,
    initialTrainerState(),
    instance.extra,
  );
  let disposed = false;
  return {
    student,
    instance,
    optimizer,
    trainer,
    setupSeconds,
    labelledCount: instance.labelled.reduce((n, l) => n + l, 0),
    dispose(keepStudent = false) {
      if (!disposed) {
        disposed = true;
        instance.dispose();
        optimizer.dispose();
      }
      if (!keepStudent) student.dispose();
    },
  };
}

/** What a distillation reports besides the training logs. */
export interface DistillRunListener extends Omit<RunListener, 'rewound'> {
  /** Mean ms per step so far (warm-up excluded); null until measured. Sent before each boundary. */
  timing(msPerStep: number | null): void;
}

/**
 * Hooks for a Trainer that time its steps: a step runs from the moment a boundary let it go on to the next
 * boundary; an epoch's evaluation is left out.
 */
export function timedHooks(
  timer: StepTimer,
  hooks: {
    onStep?: RunHooks['onStep'];
    onEpoch?: RunHooks['onEpoch'];
    /** At a boundary, after the timing: true stops the run. */
    atBoundary: () => boolean | Promise<boolean>;
  },
): RunHooks {
  return {
    onStep: hooks.onStep,
    onEpoch: async (log) => {
      timer.discard();
      await hooks.onEpoch?.(log);
    },
    shouldStop: async () => {
      timer.end();
      if (await hooks.atBoundary()) return true;
      timer.begin();
      return false;
    },
  };
}

/** One distillation in the lab: pause, resume, stop, and a message for a non-finite loss. */
export class DistillRun {
  private request: 'pause' | 'stop' | null = null;
  private running = false;
  private ended = false;
  private readonly timer = new StepTimer(() => performance.now());
  /** The masks at each epoch's end, and the latest read (kept after the run ends and the instance is freed). */
  private readonly maskHistory: AnchorMasks[] = [];
  private latestMasks: AnchorMasks | null = null;

  private constructor(
    readonly settings: DistillSettings,
    private readonly distillation: Distillation,
    private readonly trainCount: number,
  ) {}

  /** Sets the method up (AKD chooses its anchors here) and returns a run ready to train. */
  static async start(
    settings: DistillSettings,
    dataset: Dataset,
    teacher: tf.LayersModel | null,
  ): Promise<DistillRun> {
    return new DistillRun(
      settings,
      await createDistillation(settings, dataset, teacher),
      dataset.train.count,
    );
  }

  get setupSeconds(): number {
    return this.distillation.setupSeconds;
  }

  get labelledCount(): number {
    return this.distillation.labelledCount;
  }

  get student(): tf.LayersModel {
    return this.distillation.student;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get isFinished(): boolean {
    return this.ended;
  }

  get msPerStep(): number | null {
    return this.timer.msPerStep;
  }

  /**
   * The method's anchors and masks now (a small read-back, between steps when asked during a run); after the
   * run, its final masks. Null for a method without anchor masks.
   */
  async anchorMasks(): Promise<AnchorMasks | null> {
    const read = this.distillation.instance.anchorMasks;
    if (!read) return null;
    if (!this.ended) this.latestMasks = await read();
    return this.latestMasks;
  }

  /** The masks at the end of each completed epoch, oldest first (the gallery's replay). */
  get anchorMaskHistory(): readonly AnchorMasks[] {
    return this.maskHistory;
  }

  position(): RunPosition {
    const { trainer } = this.distillation;
    return {
      completedEpochs: trainer.state.epoch,
      stepInEpoch: trainer.state.stepInEpoch,
      stepsPerEpoch: trainer.stepsPerEpoch,
      epochs: trainer.config.epochs,
      batchSize: trainer.config.batchSize,
      trainCount: this.trainCount,
    };
  }

  /** Trains until done, a pause or stop request, or a non-finite loss (which ends the run). */
  async run(listener: DistillRunListener, yieldToHost: YieldToHost): Promise<RunEnd> {
    if (this.running) throw new Error('the distillation is already running');
    if (this.ended) throw new Error("the distillation's run has ended; start a new one");
    this.running = true;
    this.request = null;
    const boundary = () => {
      listener.timing(this.timer.msPerStep);
      listener.boundary(this.position());
    };
    try {
      const outcome = await this.distillation.trainer.run(
        timedHooks(this.timer, {
          onStep: (log) => listener.step(log),
          onEpoch: async (log) => {
            const masks = await this.anchorMasks();
            if (masks) this.maskHistory.push(masks);
            listener.epoch(log);
            boundary();
          },
          atBoundary: async () => {
            boundary();
            await yieldToHost();
            return this.request !== null;
          },
        }),
      );
      boundary();
      // The final masks outlive the method instance that finish() frees.
      await this.anchorMasks();
      if (outcome.kind === 'done') {
        this.finish();
        return outcome;
      }
      if (outcome.kind === 'stopped') {
        if (this.request === 'stop') {
          this.finish();
          return { kind: 'stopped' };
        }
        return { kind: 'paused' };
      }
      this.finish();
      return {
        ...outcome,
        message: `The distillation's loss term "${outcome.term}" is not finite at epoch ${outcome.epoch}, step ${outcome.step}; the run has ended. Try a lower learning rate or smaller method weights.`,
        resumable: false,
      };
    } finally {
      this.running = false;
    }
  }

  requestPause(): void {
    if (this.running) this.request ??= 'pause';
  }

  /** Ends the run: a running one at its next step boundary, a paused one now. The student stays. */
  stop(): void {
    if (this.running) this.request = 'stop';
    else this.finish();
  }

  /** Frees everything, the student included. */
  dispose(): void {
    this.ended = true;
    this.distillation.dispose();
  }

  /** The run is over: the method instance and the optimizer go; the student stays (until dispose). */
  private finish(): void {
    this.ended = true;
    this.distillation.dispose(true);
  }
}
