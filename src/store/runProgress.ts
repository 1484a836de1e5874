/**
 * A run as the UI follows it, whichever panel shows it (Teacher, Student, Distillation): status, curves,
 * position, speed, and what a non-finite loss left behind. The one set of pure transitions for a run's
 * progress, rewind and end (unit-tested); the Worker owns the run, this is its reflection.
 */
import type { RestoredRun, RunEnd, RunProgress, StepLog, EpochLog, RunPosition } from '../worker/protocol';

export type RunStatus =
  /** No run in this panel. */
  | 'idle'
  | 'starting'
  | 'running'
  | 'pausing'
  | 'paused'
  | 'stopping'
  /** Ended by the user; the model stays. */
  | 'stopped'
  | 'done'
  /** The engine failed (the banner says why). */
  | 'failed';

/** A run is under way: its form is locked and no other panel can start one. */
export const isActive = (status: RunStatus): boolean =>
  status === 'starting' || status === 'running' || status === 'pausing' || status === 'stopping';

/** A run exists that can pause, resume or stop. */
export const hasLiveRun = (status: RunStatus): boolean => isActive(status) || status === 'paused';

export interface RunProgressView {
  readonly status: RunStatus;
  readonly steps: readonly StepLog[];
  readonly epochs: readonly EpochLog[];
  readonly position: RunPosition | null;
  readonly imagesPerSecond: number | null;
  readonly etaSeconds: number | null;
  /** Mean ms per training step (warm-up excluded); null until measured. */
  readonly msPerStep: number | null;
  /** Set when a non-finite loss paused the run: the message, and whether Resume can go back to a checkpoint. */
  readonly blowUp: { readonly message: string; readonly resumable: boolean } | null;
  /** Where the run's latest checkpoint stands (a reload resumes from there); null before the first. */
  readonly lastSaved: RunPosition | null;
}

export const emptyProgress = (): RunProgressView => ({
  status: 'idle',
  steps: [],
  epochs: [],
  position: null,
  imagesPerSecond: null,
  etaSeconds: null,
  msPerStep: null,
  blowUp: null,
  lastSaved: null,
});

/** New logs appended; a pause or stop request outranks the progress still in flight. */
export const applyProgress = <T extends RunProgressView>(run: T, update: RunProgress): T => ({
  ...run,
  status: run.status === 'starting' ? 'running' : run.status,
  steps: update.steps.length ? [...run.steps, ...update.steps] : run.steps,
  epochs: update.epochs.length ? [...run.epochs, ...update.epochs] : run.epochs,
  position: update.position,
  imagesPerSecond: update.imagesPerSecond,
  etaSeconds: update.etaSeconds,
  msPerStep: update.msPerStep ?? run.msPerStep,
});

/** Curves and position from a checkpoint: a restored saved run, or a rewind after a non-finite loss. */
export const applyRewind = <T extends RunProgressView>(
  run: T,
  restored: Pick<RestoredRun, 'steps' | 'epochs' | 'position'>,
): T => ({
  ...run,
  steps: restored.steps,
  epochs: restored.epochs,
  position: restored.position,
  imagesPerSecond: null,
  etaSeconds: null,
  lastSaved: restored.position,
});

/** A checkpoint was written at `position`. */
export const applySaved = <T extends RunProgressView>(run: T, position: RunPosition): T => ({
  ...run,
  lastSaved: position,
});

/** The run settled: its status as the engine ended it (a non-finite loss pauses it, naming the step). */
export function applyRunEnd<T extends RunProgressView>(run: T, end: RunEnd): T {
  const settled = { ...run, imagesPerSecond: null, etaSeconds: null };
  switch (end.kind) {
    case 'done':
    case 'paused':
    case 'stopped':
      return { ...settled, status: end.kind };
    case 'nan':
      return { ...settled, status: 'paused', blowUp: { message: end.message, resumable: end.resumable } };
  }
}

/** Settled with a status the UI decided (a stop or pause requested, an engine failure). */
export const settleRun = <T extends RunProgressView>(run: T, status: RunStatus): T => ({
  ...run,
  status,
  imagesPerSecond: null,
  etaSeconds: null,
});
