/**
 * One role's training as the UI sees it, and the pure transitions the actions apply (unit-tested). The
 * Worker owns the run; this is its reflection: settings, status, curves, position.
 */
import type { RestoredRun, SavedRunSummary, TrainConfig } from '../worker/protocol';
import { applyRewind, emptyProgress, type RunProgressView } from './runProgress';
import { defaultForm, formFromConfig, type TrainForm } from './trainForm';

export type { RunStatus } from './runProgress';
export { applyProgress, applyRewind, applyRunEnd, hasLiveRun, isActive } from './runProgress';

export interface RoleTraining extends RunProgressView {
  readonly form: TrainForm;
  /** The settings of the run shown (null before the first). */
  readonly config: TrainConfig | null;
  /** The dataset the run trains on. */
  readonly datasetName: string | null;
  /** A run saved in this browser by an earlier visit, offered for resuming. */
  readonly savedRun: SavedRunSummary | null;
}

export const initialRoleTraining = (model = ''): RoleTraining => ({
  ...emptyProgress(),
  form: defaultForm(model),
  config: null,
  datasetName: null,
  savedRun: null,
});

/** A new run: fresh curves, the form's settings. */
export const beginRun = (state: RoleTraining, config: TrainConfig, datasetName: string): RoleTraining => ({
  ...state,
  ...emptyProgress(),
  status: 'starting',
  config,
  datasetName,
  savedRun: null,
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
