/**
 * The Distillation panel's state and the pure transitions its actions apply (unit-tested): the method and its
 * parameter texts, the label fraction, the student's settings, and every run of this visit, kept so that runs
 * with other methods or parameters can be compared. The engine holds one distillation at a time (the newest);
 * older runs here are records: settings, curves, results.
 */
import type {
  DistillMethodInfo,
  DistillSetup,
  RestoredRun,
  RunEnd,
  RunProgress,
  SavedRunSummary,
  TrainConfig,
} from '../worker/protocol';
import { BASELINE_METHOD } from '../engine/config/methods';
import type { ParamTexts } from './distillForm';
import {
  applyProgress,
  applyRewind,
  applyRunEnd,
  emptyProgress,
  hasLiveRun,
  type RunProgressView,
  type RunStatus,
  settleRun,
} from './runProgress';
import { defaultForm, type TrainForm } from './trainForm';

export interface DistillRunRecord extends RunProgressView {
  /** 1, 2, 3... in the order started. */
  readonly id: number;
  readonly method: string;
  readonly methodLabel: string;
  readonly params: Readonly<Record<string, number>>;
  readonly labelledFraction: number;
  readonly config: TrainConfig;
  readonly datasetId: string;
  readonly datasetName: string;
  /** From the engine once the method is set up: set-up time, labels used, the teacher. */
  readonly setup: DistillSetup | null;
}

export interface DistillState {
  /** The methods and their parameters, from the Worker; null until it has answered. */
  readonly methods: readonly DistillMethodInfo[] | null;
  readonly methodId: string;
  /** Parameter texts by method id, then by parameter name: switching methods keeps what was typed. */
  readonly paramTexts: Readonly<Record<string, ParamTexts>>;
  readonly labelledFraction: number;
  /** The student's settings (the Student panel's form). */
  readonly form: TrainForm;
  readonly runs: readonly DistillRunRecord[];
  /** The run whose loss curves are shown. */
  readonly shownRunId: number | null;
  /** A distillation saved in this browser by an earlier visit, offered for resuming. */
  readonly savedRun: SavedRunSummary | null;
}

export const initialDistillState = (): DistillState => ({
  methods: null,
  methodId: 'kd',
  paramTexts: {},
  labelledFraction: 1,
  form: defaultForm(),
  runs: [],
  shownRunId: null,
  savedRun: null,
});

export const withMethods = (state: DistillState, methods: readonly DistillMethodInfo[]): DistillState => ({
  ...state,
  methods,
  methodId: methods.some((m) => m.id === state.methodId) ? state.methodId : (methods[0]?.id ?? ''),
});

export const editParam = (
  state: DistillState,
  methodId: string,
  name: string,
  text: string,
): DistillState => ({
  ...state,
  paramTexts: { ...state.paramTexts, [methodId]: { ...state.paramTexts[methodId], [name]: text } },
});

/** The run the engine holds and the panel's controls act on: the newest, while it can still run. */
export function liveRun(state: DistillState): DistillRunRecord | null {
  const last = state.runs[state.runs.length - 1];
  return last && hasLiveRun(last.status) ? last : null;
}

export type NewRun = Pick<
  DistillRunRecord,
  'method' | 'methodLabel' | 'params' | 'labelledFraction' | 'config' | 'datasetId' | 'datasetName'
>;

/**
 * A new run, shown at once. The engine replaces its previous distillation, so a paused older run ends here
 * too (as stopped).
 */
export function beginDistillRun(state: DistillState, run: NewRun): { state: DistillState; id: number } {
  const id = (state.runs[state.runs.length - 1]?.id ?? 0) + 1;
  const runs = state.runs.map((r) => (hasLiveRun(r.status) ? settleRun(r, 'stopped') : r));
  const record: DistillRunRecord = { ...emptyProgress(), ...run, id, status: 'starting', setup: null };
  return { state: { ...state, runs: [...runs, record], shownRunId: id, savedRun: null }, id };
}

export const updateRunById = (
  state: DistillState,
  id: number,
  update: (run: DistillRunRecord) => DistillRunRecord,
): DistillState => updateRun(state, id, update);

const updateRun = (
  state: DistillState,
  id: number,
  update: (run: DistillRunRecord) => DistillRunRecord,
): DistillState => ({ ...state, runs: state.runs.map((r) => (r.id === id ? update(r) : r)) });

export const applyDistillSetup = (state: DistillState, id: number, setup: DistillSetup): DistillState =>
  updateRun(state, id, (run) => ({ ...run, setup }));

export const applyDistillProgress = (state: DistillState, id: number, update: RunProgress): DistillState =>
  updateRun(state, id, (run) => applyProgress(run, update));

export const applyDistillEnd = (state: DistillState, id: number, end: RunEnd): DistillState =>
  updateRun(state, id, (run) => applyRunEnd(run, end));

/** A distillation an earlier visit saved, offered for resuming while the panel has no run of its own. */
export const applySavedDistillation = (state: DistillState, saved: SavedRunSummary): DistillState =>
  state.runs.some((r) => hasLiveRun(r.status)) ? state : { ...state, savedRun: saved };

/** A saved distillation loaded back by the engine: a paused (or finished) run with its curves. */
export function applyRestoredDistillation(
  state: DistillState,
  restored: RestoredRun,
  dataset: { id: string; name: string },
): { state: DistillState; id: number } {
  const methodLabel = state.methods?.find((m) => m.id === restored.method)?.label ?? restored.method;
  const begun = beginDistillRun(state, {
    method: restored.method,
    methodLabel,
    params: restored.params,
    labelledFraction: restored.labelledFraction,
    config: restored.config,
    datasetId: dataset.id,
    datasetName: dataset.name,
  });
  const next = updateRun(begun.state, begun.id, (run) => ({
    ...applyRewind(run, restored),
    status: restored.finished ? 'done' : 'paused',
  }));
  return { state: next, id: begun.id };
}

export const setRunStatus = (state: DistillState, id: number, status: RunStatus): DistillState =>
  updateRun(state, id, (run) => ({ ...run, status }));

/** A run the engine refused before it began: forgotten, as if Start had not been pressed. */
export function dropRun(state: DistillState, id: number): DistillState {
  const runs = state.runs.filter((r) => r.id !== id);
  return { ...state, runs, shownRunId: runs[runs.length - 1]?.id ?? null };
}

/** Settings that make two runs comparable: the same student settings, labels and dataset. */
const SETTING_KEYS = [
  'model',
  'epochs',
  'batchSize',
  'optimizer',
  'learningRate',
  'momentum',
  'weightDecay',
  'schedule',
  'seed',
  'augment',
] as const satisfies readonly (keyof TrainConfig)[];

export const sameSettings = (
  a: Pick<DistillRunRecord, 'config' | 'labelledFraction' | 'datasetId'>,
  b: Pick<DistillRunRecord, 'config' | 'labelledFraction' | 'datasetId'>,
): boolean =>
  a.labelledFraction === b.labelledFraction &&
  a.datasetId === b.datasetId &&
  SETTING_KEYS.every((key) => a.config[key] === b.config[key]);

export const isBaseline = (run: Pick<DistillRunRecord, 'method'>): boolean => run.method === BASELINE_METHOD;

/** The newest `ce` run with the same settings as `run` (itself when it is one), or null. */
export function baselineFor(
  runs: readonly DistillRunRecord[],
  run: Pick<DistillRunRecord, 'config' | 'labelledFraction' | 'datasetId'>,
): DistillRunRecord | null {
  for (let i = runs.length - 1; i >= 0; i--) {
    const candidate = runs[i]!;
    if (isBaseline(candidate) && sameSettings(candidate, run)) return candidate;
  }
  return null;
}

/** Test accuracy after the last completed epoch; null before the first. */
export const finalTestAccuracy = (run: Pick<DistillRunRecord, 'epochs'>): number | null =>
  run.epochs[run.epochs.length - 1]?.testAccuracy ?? null;

/** One point of the overlaid accuracy chart: the epoch, then each run's test accuracy (%) under `run<id>`. */
export type OverlayPoint = { readonly epoch: number } & Readonly<Record<string, number>>;

export const runKey = (id: number): string => `run${id}`;

/** Every run's test accuracy per epoch on one x axis; runs without epochs are left out of `series`. */
export function accuracyOverlay(runs: readonly DistillRunRecord[]): {
  series: DistillRunRecord[];
  points: OverlayPoint[];
} {
  const series = runs.filter((r) => r.epochs.length > 0);
  const byEpoch = new Map<number, Record<string, number>>();
  for (const run of series)
    for (const log of run.epochs) {
      const point = byEpoch.get(log.epoch) ?? { epoch: log.epoch };
      point[runKey(run.id)] = log.testAccuracy * 100;
      byEpoch.set(log.epoch, point);
    }
  const points = [...byEpoch.values()].sort((a, b) => a.epoch! - b.epoch!) as OverlayPoint[];
  return { series, points };
}
