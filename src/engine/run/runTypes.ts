/**
 * The words every host of a run shares (the Worker, the CLI, the tests): where a run stands, how a call to
 * `LabRun.run` ended, and what it reports. Plain TypeScript, no tfjs. See docs/design.md §9 (runs).
 */
import type { EpochLog, StepLog, TrainerState } from '../training/trainer';

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

/** How a call to `LabRun.run` ended. A paused or nan run can run again; a done or stopped one cannot. */
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
  /** Mean ms per step so far (warm-up excluded); null until measured. Sent before each boundary. */
  timing?(msPerStep: number | null): void;
  /** The run went back to its checkpoint (after a non-finite loss): curves and position are these again. */
  rewound?(state: TrainerState, position: RunPosition): void;
  /** A checkpoint was written (epoch end, pause/stop, or the periodic save). */
  saved?(position: RunPosition): void;
}

/** Resolves on a later turn of the host's event loop (a Worker: after queued messages, such as a pause). */
export type YieldToHost = () => Promise<void>;

/**
 * Losses are read back every `logEvery` steps. On wasm and cpu the values already sit in main memory, so every
 * step costs nothing; on a GPU each read waits for the queue to drain, so read every few steps.
 */
export const logEveryFor = (backend: string): number => (backend === 'wasm' || backend === 'cpu' ? 1 : 5);

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "2 epochs done" or "1 epoch and 37 steps done". */
export const describePosition = ({ epoch, stepInEpoch }: { epoch: number; stepInEpoch: number }): string =>
  `${plural(epoch, 'epoch')}${stepInEpoch ? ` and ${plural(stepInEpoch, 'step')}` : ''} done`;

/**
 * The lab's three places a run lives, each with its own saved checkpoint: the Teacher panel (a teacher on
 * labels), the Student panel (a student on labels) and the Distillation panel (a student by any method).
 */
export const RUN_LANES = ['teacher', 'student', 'distill'] as const;
export type RunLane = (typeof RUN_LANES)[number];

/** How messages name a lane's run. */
export const laneRunName = (lane: RunLane): string => (lane === 'distill' ? 'distillation' : lane);
