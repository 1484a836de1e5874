/**
 * One run of the lab, whatever it trains: a teacher or a student on labels (`ce`) or a student distilled by
 * any method. One state machine (run, pause, resume, stop), one checkpoint policy (every epoch end, on pause
 * and stop, and every `checkpointSeconds` of training, so a reload or a Ctrl-C loses at most that), recovery
 * from a non-finite loss by going back to the last checkpoint (the method's state included), and step timing.
 * The Worker, the CLI and the unit tests all host it. See docs/design.md §9 (runs).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset, ImageSplit } from '../data/cifar10';
import type { AnchorMasks } from '../distill/method';
import type { MethodCheckpointInfo } from '../distill/methodCheckpoint';
import { findMethod } from '../distill/registry';
import type { RunSlot } from '../training/savedRuns';
import { StepTimer } from '../training/stepTimer';
import { evaluateModel, type RunHooks, type TrainerState } from '../training/trainer';
import { loadRunCheckpoint, saveRunCheckpoint } from './runCheckpoint';
import {
  createDistillation,
  type Distillation,
  type DistillationOptions,
  type DistillSettings,
  type DistillTeacher,
} from './runSpec';
import {
  describePosition,
  type RunEnd,
  type RunListener,
  type RunPosition,
  type YieldToHost,
} from './runTypes';

/** The teacher a run distils from, and how a checkpoint names it. */
export interface RunTeacher extends DistillTeacher {
  readonly preset: string;
  /** Where it was read: a path, a file name, 'shipped'. */
  readonly source: string;
}

/** A run's host settings, with those of its distillations (the teacher's host: runSpec.ts). */
export interface LabRunOptions extends DistillationOptions {
  /** Seconds of training between periodic checkpoints (besides epoch ends, pauses and stops); default 30. */
  readonly checkpointSeconds?: number;
  /** Milliseconds; performance.now when left out (tests pass their own clock). */
  readonly now?: () => number;
  /** The loss read-back interval for this host's backend (restore only: a start takes it from the config). */
  readonly logEvery?: number;
}

/** Where a checkpoint stands in its run. */
type CheckpointPosition = Pick<TrainerState, 'epoch' | 'stepInEpoch'>;

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

export class LabRun {
  private request: 'pause' | 'stop' | null = null;
  private running = false;
  private ended = false;
  /** False after a non-finite loss: the weights are not trusted until the checkpoint is loaded again. */
  private healthy = true;
  private checkpoint: CheckpointPosition | null;
  private lastSave: number;
  private readonly timer: StepTimer;
  private readonly now: () => number;
  private readonly checkpointMs: number;
  /** The masks at each epoch's end, and the latest read (kept after the run ends and the instance is freed). */
  private readonly maskHistory: AnchorMasks[] = [];
  private latestMasks: AnchorMasks | null = null;

  private constructor(
    readonly settings: DistillSettings,
    private pieces: Distillation,
    private readonly dataset: Dataset,
    private readonly teacher: RunTeacher | null,
    private readonly slot: RunSlot,
    checkpoint: CheckpointPosition | null,
    private readonly options: LabRunOptions,
  ) {
    this.checkpoint = checkpoint;
    this.now = options.now ?? (() => performance.now());
    this.checkpointMs = (options.checkpointSeconds ?? 30) * 1000;
    this.lastSave = this.now();
    this.timer = new StepTimer(this.now);
  }

  /** Sets the method up (AKD chooses its anchors here); the slot's previous run is forgotten. */
  static async start(
    settings: DistillSettings,
    dataset: Dataset,
    teacher: RunTeacher | null,
    slot: RunSlot,
    options: LabRunOptions = {},
  ): Promise<LabRun> {
    const used = findMethod(settings.method).needsTeacher ? teacher : null;
    const pieces = await createDistillation(settings, dataset, used, undefined, options);
    try {
      await slot.clear();
    } catch (error) {
      pieces.dispose();
      throw error;
    }
    return new LabRun(settings, pieces, dataset, used, slot, null, options);
  }

  /**
   * The run saved in `slot`, at its checkpoint, ready to run on (or finished). A distillation needs the teacher
   * it was distilled from (the same preset); `epochs` may extend a run.
   */
  static async restore(
    slot: RunSlot,
    dataset: Dataset,
    teacher: RunTeacher | null,
    options: LabRunOptions & { epochs?: number } = {},
  ): Promise<LabRun> {
    const saved = await loadRunCheckpoint(slot);
    const { method } = saved;
    const release = () => {
      saved.model.dispose();
      for (const { tensor } of saved.optimizerSlots) tensor.dispose();
    };
    try {
      if (saved.context && saved.context.datasetId !== dataset.id)
        throw new Error(
          `the saved run trains on ${saved.context.datasetName}, but the active dataset is ${dataset.name}`,
        );
      checkTeacher(method, teacher);
    } catch (error) {
      release();
      throw error;
    }
    const config = {
      ...saved.run.config,
      ...(options.logEvery ? { logEvery: options.logEvery } : {}),
      ...(options.epochs ? { epochs: options.epochs } : {}),
    };
    const settings: DistillSettings = {
      method: method.method,
      params: method.params,
      labelledFraction: method.labelledFraction,
      train: config,
    };
    const used = method.teacher ? teacher : null;
    const pieces = await createDistillation(
      settings,
      dataset,
      used,
      {
        model: saved.model,
        optimizerSlots: saved.optimizerSlots,
        state: saved.run.state,
        methodState: saved.methodState,
      },
      options,
    );
    const { epoch, stepInEpoch } = saved.run.state;
    return new LabRun(settings, pieces, dataset, used, slot, { epoch, stepInEpoch }, options);
  }

  get model(): tf.LayersModel {
    return this.pieces.student;
  }

  get config() {
    return this.settings.train;
  }

  get state(): TrainerState {
    return this.pieces.trainer.state;
  }

  get datasetId(): string {
    return this.dataset.id;
  }

  get setupSeconds(): number {
    return this.pieces.setupSeconds;
  }

  /** Whether the teacher's pass runs a batch ahead on a thread of its own (distill/teacherAhead.ts). */
  get teacherAhead(): boolean {
    return this.pieces.trainer.teacherAhead !== null;
  }

  get labelledCount(): number {
    return this.pieces.labelledCount;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get isFinished(): boolean {
    return this.ended || this.state.epoch >= this.config.epochs;
  }

  get msPerStep(): number | null {
    return this.timer.msPerStep;
  }

  /** How messages name the run: the model trained on labels by its role, else the distillation. */
  get name(): string {
    return findMethod(this.settings.method).needsTeacher ? 'distillation' : this.config.role;
  }

  /** Whether it distils from a teacher (a `ce` run has none). */
  get usesTeacher(): boolean {
    return this.teacher !== null;
  }

  /** Where the latest checkpoint stands; null before the first. */
  get checkpointPosition(): CheckpointPosition | null {
    return this.checkpoint;
  }

  position(): RunPosition {
    const { trainer } = this.pieces;
    return {
      completedEpochs: trainer.state.epoch,
      stepInEpoch: trainer.state.stepInEpoch,
      stepsPerEpoch: trainer.stepsPerEpoch,
      epochs: trainer.config.epochs,
      batchSize: trainer.config.batchSize,
      trainCount: this.dataset.train.count,
    };
  }

  /**
   * The method's anchors and masks now (a small read-back, between steps when asked during a run); after the
   * run, its final masks. Null for a method without anchor masks.
   */
  async anchorMasks(): Promise<AnchorMasks | null> {
    if (this.ended) return this.latestMasks;
    const read = this.pieces.instance.anchorMasks;
    if (!read) return null;
    this.latestMasks = await read();
    return this.latestMasks;
  }

  /** The masks at the end of each completed epoch, oldest first (the gallery's replay). */
  get anchorMaskHistory(): readonly AnchorMasks[] {
    return this.maskHistory;
  }

  /** Top-1 accuracy of the model now on a split (BatchNorm in inference mode). */
  evaluate(split: ImageSplit): Promise<{ accuracy: number; correct: number; total: number }> {
    return evaluateModel(this.model, split, this.config.batchSize);
  }

  /** Trains until done, a pause or stop request, or a non-finite loss. */
  async run(listener: RunListener, yieldToHost: YieldToHost): Promise<RunEnd> {
    if (this.running) throw new Error(`the ${this.name} is already training`);
    if (this.isFinished) throw new Error(`the ${this.name}'s run has ended; start a new one`);
    this.running = true;
    this.request = null;
    const boundary = () => {
      listener.timing?.(this.timer.msPerStep);
      listener.boundary(this.position());
    };
    try {
      if (!this.healthy) {
        await this.rewind();
        listener.rewound?.(this.state, this.position());
      }
      this.lastSave = this.now();
      const outcome = await this.pieces.trainer.run(
        timedHooks(this.timer, {
          onStep: (log) => listener.step(log),
          onEpoch: async (log) => {
            const masks = await this.anchorMasks();
            if (masks) this.maskHistory.push(masks);
            listener.epoch(log);
            boundary();
            await this.save(listener);
          },
          atBoundary: async () => {
            boundary();
            if (this.saveDue()) await this.save(listener);
            await yieldToHost();
            return this.request !== null;
          },
        }),
      );
      boundary();
      if (outcome.kind === 'done') {
        await this.anchorMasks();
        this.finish();
        return outcome;
      }
      if (outcome.kind === 'stopped') {
        await this.save(listener);
        await this.anchorMasks();
        if (this.request === 'stop') {
          this.finish();
          return { kind: 'stopped' };
        }
        return { kind: 'paused' };
      }
      this.healthy = false;
      const kept = this.checkpoint
        ? `the last good checkpoint (${describePosition(this.checkpoint)}) is kept; Resume goes back to it`
        : 'this run has no checkpoint yet; start again with a lower learning rate or smaller method weights';
      return {
        ...outcome,
        message: `The ${this.name}'s loss term "${outcome.term}" is not finite at epoch ${outcome.epoch}, step ${outcome.step}; training is paused and ${kept}.`,
        resumable: this.checkpoint !== null,
      };
    } finally {
      this.running = false;
    }
  }

  requestPause(): void {
    if (this.running) this.request ??= 'pause';
  }

  /**
   * Ends the run: a running one at its next step (saving a checkpoint there), a paused one now. The checkpoint
   * stays in the slot, so a later visit may still continue it; the model stays until dispose.
   */
  stop(): void {
    if (this.running) this.request = 'stop';
    else this.finish();
  }

  /** Frees everything, the model included. */
  dispose(): void {
    this.ended = true;
    this.pieces.dispose();
  }

  /** The run is over: the method instance and the optimizer go; the model stays (until dispose). */
  private finish(): void {
    this.ended = true;
    this.pieces.dispose(true);
  }

  /**
   * A periodic checkpoint is due, and the position is whole: every step up to it has been logged (on a GPU the
   * losses are read every few steps, and a checkpoint between reads would lose those logs).
   */
  private saveDue(): boolean {
    if (this.now() - this.lastSave < this.checkpointMs) return false;
    const { steps, epoch, stepInEpoch } = this.state;
    const last = steps[steps.length - 1];
    return stepInEpoch > 0 && last !== undefined && last.epoch === epoch + 1 && last.step === stepInEpoch;
  }

  private async save(listener?: RunListener): Promise<void> {
    if (!this.healthy) return;
    const { student, optimizer, trainer, instance } = this.pieces;
    await saveRunCheckpoint(this.slot, {
      model: student,
      optimizer,
      config: this.config,
      state: trainer.state,
      method: this.methodInfo(),
      methodState: (await instance.state?.()) ?? {},
      context: { datasetId: this.dataset.id, datasetName: this.dataset.name },
    });
    this.checkpoint = { epoch: trainer.state.epoch, stepInEpoch: trainer.state.stepInEpoch };
    this.lastSave = this.now();
    listener?.saved?.(this.position());
  }

  private methodInfo(): MethodCheckpointInfo {
    const { method, params, labelledFraction } = this.settings;
    return {
      method,
      params,
      labelledFraction,
      teacher: this.teacher ? { preset: this.teacher.preset, source: this.teacher.source } : null,
    };
  }

  /** Back to the last checkpoint after a non-finite loss: model, optimizer, method state and position. */
  private async rewind(): Promise<void> {
    if (this.checkpoint === null)
      throw new Error(
        "the run's loss became non-finite before its first checkpoint; start again with a lower learning rate",
      );
    const saved = await loadRunCheckpoint(this.slot);
    const next = await createDistillation(
      this.settings,
      this.dataset,
      this.teacher,
      {
        model: saved.model,
        optimizerSlots: saved.optimizerSlots,
        state: saved.run.state,
        methodState: saved.methodState,
      },
      this.options,
    );
    this.pieces.dispose();
    this.pieces = next;
    this.healthy = true;
  }
}

/** A distillation resumes only from a teacher of the preset it was distilled from. */
function checkTeacher(method: MethodCheckpointInfo, teacher: RunTeacher | null): void {
  if (!method.teacher) return;
  const label = findMethod(method.method).label;
  if (!teacher)
    throw new Error(
      `this ${label} run distils from a ${method.teacher.preset} teacher (${method.teacher.source}); load that teacher first`,
    );
  if (teacher.preset !== method.teacher.preset)
    throw new Error(
      `this ${label} run distils from a ${method.teacher.preset} teacher (${method.teacher.source}), but the current teacher is a ${teacher.preset}`,
    );
}
