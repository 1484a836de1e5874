/**
 * One role's training as the UI sees it, and the pure transitions the actions apply (unit-tested). The
 * Worker owns the run; this is its reflection: settings, status, curves, position.
 */
import type {
  EpochLog,
  ProgressUpdate,
  RestoredRun,
  RunEnd,
  RunPosition,
  SavedRunSummary,
  StepLog,
  TrainConfig,
} from '../worker/protocol';
import { defaultForm, formFromConfig, type TrainForm } from './trainForm';

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

export interface RoleTraining {
  readonly form: TrainForm;
  readonly status: RunStatus;
  /** The settings of the run shown (null before the first). */
  readonly config: TrainConfig | null;
  /** The dataset the run trains on. */
  readonly datasetName: string | null;
  readonly steps: readonly StepLog[];
  readonly epochs: readonly EpochLog[];
  readonly position: RunPosition | null;
  readonly imagesPerSecond: number | null;
  readonly etaSeconds: number | null;
  /** Set when a non-finite loss paused the run: the message, and whether Resume can go back to a checkpoint. */
  readonly blowUp: { readonly message: string; readonly resumable: boolean } | null;
  /** A run saved in this browser by an earlier visit, offered for resuming. */
  readonly savedRun: SavedRunSummary | null;
}

export const initialRoleTraining = (model = ''): RoleTraining => ({
  form: defaultForm(model),
  status: 'idle',
  config: null,
  datasetName: null,
  steps: [],
  epochs: [],
  position: null,
  imagesPerSecond: null,
  etaSeconds: null,
  blowUp: null,
  savedRun: null,
});

/** A run is under way: its form is locked and the other panel cannot start one. */
export const isActive = (status: RunStatus): boolean =>
  status === 'starting' || status === 'running' || status === 'pausing' || status === 'stopping';

/** A run exists that can pause, resume or stop. */
export const hasLiveRun = (status: RunStatus): boolean => isActive(status) || status === 'paused';

/** A new run: fresh curves, the form's settings. */
export const beginRun = (state: RoleTraining, config: TrainConfig, datasetName: string): RoleTraining => ({
  ...state,
  status: 'starting',
  config,
  datasetName,
  steps: [],
  epochs: [],
  position: null,
  imagesPerSecond: null,
  etaSeconds: null,
  blowUp: null,
  savedRun: null,
});

export function applyProgress(state: RoleTraining, update: ProgressUpdate): RoleTraining {
  return {
    ...state,
    // A pause or stop request outranks the progress still in flight.
    status: state.status === 'starting' ? 'running' : state.status,
    steps: update.steps.length ? [...state.steps, ...update.steps] : state.steps,
    epochs: update.epochs.length ? [...state.epochs, ...update.epochs] : state.epochs,
    position: update.position,
    imagesPerSecond: update.imagesPerSecond,
    etaSeconds: update.etaSeconds,
  };
}

/** Curves and position from a checkpoint: a restored saved run, or a rewind after a non-finite loss. */
export const applyRewind = (
  state: RoleTraining,
  restored: Pick<RestoredRun, 'steps' | 'epochs' | 'position'>,
): RoleTraining => ({
  ...state,
  steps: restored.steps,
  epochs: restored.epochs,
  position: restored.position,
  imagesPerSecond: null,
  etaSeconds: null,
});

export const applyRestored = (
  state: RoleTraining,
  restored: RestoredRun,
  datasetName: string,
): RoleTraining => ({
  ...applyRewind(state, restored),
  status: restored.finished ? 'done' : 'paused',
  config: restored.config,
  datasetName,
  form: formFromConfig(restored.config),
  blowUp: null,
  savedRun: null,
});

export function applyRunEnd(state: RoleTraining, end: RunEnd): RoleTraining {
  const settled = { ...state, imagesPerSecond: null, etaSeconds: null };
  switch (end.kind) {
    case 'done':
      return { ...settled, status: 'done' };
    case 'paused':
      return { ...settled, status: 'paused' };
    case 'stopped':
      return { ...settled, status: 'stopped' };
    case 'nan':
      return { ...settled, status: 'paused', blowUp: { message: end.message, resumable: end.resumable } };
  }
}
