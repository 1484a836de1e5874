/**
 * One role's training run as the lab drives it: the Trainer plus pause/stop requests, a checkpoint in the
 * role's slot at every epoch end (and when paused or stopped), and recovery from a non-finite loss by going
 * back to the last good checkpoint. The browser's Worker and the unit tests host it; the CLI drives the
 * Trainer directly.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import type { TrainConfig } from './hyperparams';
import { RUN_CONTEXT_FILE, type RunContext, type RunSlot } from './savedRuns';
import {
  createOptimizer,
  crossEntropyLoss,
  type EpochLog,
  initialTrainerState,
  type StepLog,
  Trainer,
  type TrainerState,
} from './trainer';

/** Where a run stands, in the units the progress bar shows. */
export interface RunPosition {
  /** Epochs completed. */
  readonly completedEpochs: number;
  /** Steps done in the epoch under way. */
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly trainCount: number;
}

/** How a call to `TrainingRun.run` ended. A paused or nan run can run again; a done or stopped one cannot. */
export type RunEnd =
  | { readonly kind: 'done' }
  | { readonly kind: 'paused' }
  | { readonly kind: 'stopped' }
  | {
      readonly kind: 'nan';
      readonly epoch: number;
      readonly step: number;
      readonly term: string;
      /** Ready to show: names the step and what happens next. */
      readonly message: string;
      /** Whether a checkpoint of this run exists for Resume to go back to. */
      readonly resumable: boolean;
    };

export interface RunListener {
  step(log: StepLog): void;
  epoch(log: EpochLog): void;
  /** Between steps, before the pause/stop check: the position without reading anything back from the device. */
  boundary(position: RunPosition): void;
  /** The run went back to its checkpoint (after a non-finite loss): curves and position are these again. */
  rewound(state: TrainerState, position: RunPosition): void;
}

/**
 * Losses are read back every `logEvery` steps. On wasm and cpu the values already sit in main memory, so every
 * step costs nothing; on a GPU each read waits for the queue to drain, so read every few steps.
 */
export const logEveryFor = (backend: string): number => (backend === 'wasm' || backend === 'cpu' ? 1 : 5);

/** Where a checkpoint stands in its run. */
type CheckpointPosition = Pick<TrainerState, 'epoch' | 'stepInEpoch'>;

/** Resolves on a later turn of the host's event loop (a Worker: after queued messages, such as a pause). */
export type YieldToHost = () => Promise<void>;

export class TrainingRun {
  private trainer: Trainer;
  private request: 'pause' | 'stop' | null = null;
  private running = false;
  /** False after a non-finite loss: the weights are not trusted until the checkpoint is loaded again. */
  private healthy = true;
  private ended = false;
  /** Where this run's latest checkpoint stands; null before its first save. */
  private checkpoint: CheckpointPosition | null;

  private constructor(
    model: tf.LayersModel,
    config: TrainConfig,
    private readonly dataset: Dataset,
    optimizer: tf.Optimizer,
    state: TrainerState,
    private readonly slot: RunSlot,
    checkpoint: CheckpointPosition | null,
  ) {
    this.trainer = new Trainer(
      model,
      config,
      dataset,
      optimizer,
      crossEntropyLoss(model, config.weightDecay),
      state,
    );
    this.checkpoint = checkpoint;
  }

  /** A new run from the preset's seeded initialisation; the role's previous saved run is forgotten. */
  static async start(config: TrainConfig, dataset: Dataset, slot: RunSlot): Promise<TrainingRun> {
    if (dataset.train.count === 0) {
      throw new Error(`${dataset.name} has no training images; choose a dataset with a training split`);
    }
    const preset = findPreset(config.model);
    if (preset.role !== config.role) {
      throw new Error(`${preset.id} is a ${preset.role} model, not a ${config.role}`);
    }
    await slot.clear();
    const model = preset.build(config.seed);
    return new TrainingRun(
      model,
      config,
      dataset,
      createOptimizer(config),
      initialTrainerState(),
      slot,
      null,
    );
  }

  /** The run saved in `slot`, at its checkpoint, ready to run on (or finished). */
  static async restore(slot: RunSlot, dataset: Dataset, logEvery: number): Promise<TrainingRun> {
    const context = await readRunContext(slot);
    if (context.datasetId !== dataset.id) {
      throw new Error(
        `the saved run trains on ${context.datasetName}, but the active dataset is ${dataset.name}`,
      );
    }
    const { model, optimizer, config, state } = await loadRun(slot, logEvery);
    const { epoch, stepInEpoch } = state;
    return new TrainingRun(model, config, dataset, optimizer, state, slot, { epoch, stepInEpoch });
  }

  get model(): tf.LayersModel {
    return this.trainer.model;
  }

  get config(): TrainConfig {
    return this.trainer.config;
  }

  get state(): TrainerState {
    return this.trainer.state;
  }

  get datasetId(): string {
    return this.dataset.id;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get isFinished(): boolean {
    return this.ended || this.state.epoch >= this.config.epochs;
  }

  position(): RunPosition {
    const { state, config } = this.trainer;
    return {
      completedEpochs: state.epoch,
      stepInEpoch: state.stepInEpoch,
      stepsPerEpoch: this.trainer.stepsPerEpoch,
      epochs: config.epochs,
      batchSize: config.batchSize,
      trainCount: this.dataset.train.count,
    };
  }

  /** Trains until done, a pause or stop request, or a non-finite loss. */
  async run(listener: RunListener, yieldToHost: YieldToHost): Promise<RunEnd> {
    if (this.running) throw new Error(`the ${this.config.role} is already training`);
    if (this.isFinished) throw new Error(`the ${this.config.role}'s run has ended; start a new one`);
    this.running = true;
    this.request = null;
    try {
      if (!this.healthy) {
        await this.reloadCheckpoint();
        listener.rewound(this.state, this.position());
      }
      const outcome = await this.trainer.run({
        onStep: (log) => listener.step(log),
        onEpoch: async (log) => {
          listener.epoch(log);
          listener.boundary(this.position());
          await this.save();
        },
        shouldStop: async () => {
          listener.boundary(this.position());
          await yieldToHost();
          return this.request !== null;
        },
      });
      listener.boundary(this.position());
      if (outcome.kind === 'done') return outcome;
      if (outcome.kind === 'stopped') {
        await this.save();
        if (this.request === 'stop') this.ended = true;
        return { kind: this.request === 'stop' ? 'stopped' : 'paused' };
      }
      this.healthy = false;
      const kept = this.checkpoint
        ? `the last good checkpoint (${describePosition(this.checkpoint)}) is kept; Resume goes back to it`
        : 'this run has no checkpoint yet; start again with a lower learning rate';
      return {
        ...outcome,
        message: `The ${this.config.role}'s loss term "${outcome.term}" is not finite at epoch ${outcome.epoch}, step ${outcome.step}; training is paused and ${kept}.`,
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
   * stays in the slot, so a later visit may still continue it.
   */
  stop(): void {
    if (this.running) this.request = 'stop';
    // A paused run's checkpoint is already saved (or, after a non-finite loss, must not be overwritten).
    else this.ended = true;
  }

  dispose(): void {
    this.trainer.model.dispose();
    this.trainer.optimizer.dispose();
  }

  private async save(): Promise<void> {
    if (!this.healthy) return;
    const { model, optimizer, config, state } = this.trainer;
    await saveCheckpoint(withRunContext(this.slot, this.dataset), model, optimizer, { config, state });
    this.checkpoint = { epoch: state.epoch, stepInEpoch: state.stepInEpoch };
  }

  private async reloadCheckpoint(): Promise<void> {
    if (this.checkpoint === null) {
      throw new Error(
        `the ${this.config.role}'s loss became non-finite before its first checkpoint; start again with a lower learning rate`,
      );
    }
    const { model, optimizer, config, state } = await loadRun(this.slot, this.config.logEvery);
    this.dispose();
    this.trainer = new Trainer(
      model,
      config,
      this.dataset,
      optimizer,
      crossEntropyLoss(model, config.weightDecay),
      state,
    );
    this.healthy = true;
  }
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "2 epochs done" or "1 epoch and 37 steps done". */
const describePosition = ({ epoch, stepInEpoch }: CheckpointPosition) =>
  `${plural(epoch, 'epoch')}${stepInEpoch ? ` and ${plural(stepInEpoch, 'step')}` : ''} done`;

/** Model, optimizer (with its slots) and position of the checkpoint in `slot`. */
async function loadRun(slot: RunSlot, logEvery: number) {
  const { model, run, optimizerSlots } = await loadCheckpoint(slot);
  const config: TrainConfig = { ...run.config, logEvery };
  const optimizer = createOptimizer(config);
  await optimizer.setWeights(optimizerSlots);
  // setWeights makes variables of its own from these tensors.
  for (const { tensor } of optimizerSlots) tensor.dispose();
  return { model, optimizer, config, state: run.state };
}

/** The slot, writing the lab's context file with every checkpoint. */
function withRunContext(slot: RunSlot, dataset: Dataset): RunSlot {
  return {
    ...slot,
    write: (files) => {
      const context: RunContext = {
        datasetId: dataset.id,
        datasetName: dataset.name,
        savedAt: new Date().toISOString(),
      };
      return slot.write({ ...files, [RUN_CONTEXT_FILE]: JSON.stringify(context) });
    },
  };
}

export async function readRunContext(slot: RunSlot): Promise<RunContext> {
  return JSON.parse(new TextDecoder().decode(await slot.read(RUN_CONTEXT_FILE))) as RunContext;
}
