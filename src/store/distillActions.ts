/**
 * What the Distillation panel can ask for. Runs go to the engine Worker, which reports through a listener (a
 * comlink proxy); every run of the visit stays in the store for comparison.
 */
import * as Comlink from 'comlink';
import { BASELINE_METHOD } from '../engine/config/methods';
import type { RunEnd, RunProgressListener } from '../worker/protocol';
import { checkParams } from './distillForm';
import { applyRewind, applySaved } from './runProgress';
import {
  applyDistillEnd,
  applyDistillProgress,
  applyDistillSetup,
  applyRestoredDistillation,
  beginDistillRun,
  type DistillState,
  dropRun,
  editParam,
  liveRun,
  setRunStatus,
  updateRunById,
  withMethods,
} from './distillState';
import { useDistillStore } from './distillStores';
import { getEngine, messageOf } from './engineClient';
import { recordDistillRuns } from './history/historyStore';
import { reportError, useDatasetStore } from './stores';
import { checkForm, editedForm, type TrainForm } from './trainForm';

const engine = () => getEngine(reportError);
const update = (change: (state: DistillState) => DistillState) => useDistillStore.setState(change);

/** The methods and their declared parameters, from the Worker (the UI bundle holds no tfjs). */
export async function prepareDistillation(): Promise<void> {
  try {
    const methods = await engine().distillMethods();
    update((s) => withMethods(s, methods));
  } catch (error) {
    reportError(messageOf(error));
  }
}

export const chooseMethod = (methodId: string) => update((s) => ({ ...s, methodId }));
export const editDistillParam = (name: string, text: string) =>
  update((s) => editParam(s, s.methodId, name, text));
export const resetDistillParams = () =>
  update((s) => ({ ...s, paramTexts: { ...s.paramTexts, [s.methodId]: {} } }));
export const chooseLabelledFraction = (labelledFraction: number) =>
  update((s) => ({ ...s, labelledFraction }));
export const editDistillForm = (patch: Partial<TrainForm>) =>
  update((s) => ({ ...s, form: editedForm(s.form, patch) }));
export const showRun = (id: number) => update((s) => ({ ...s, shownRunId: id }));

function listenerFor(id: number): RunProgressListener {
  return Comlink.proxy({
    ready: (setup) => update((s) => applyDistillSetup(s, id, setup)),
    progress: (progress) => update((s) => applyDistillProgress(s, id, progress)),
    saved: (position) => update((s) => updateRunById(s, id, (run) => applySaved(run, position))),
    rewound: (restored) => update((s) => updateRunById(s, id, (run) => applyRewind(run, restored))),
  });
}

/**
 * Follows one start/resume call to its end. A start the engine refuses before the method was set up is
 * forgotten; a failure later leaves the run's curves, marked failed (a resume that cannot go on: stopped).
 */
async function follow(
  id: number,
  call: (listener: RunProgressListener) => Promise<RunEnd>,
  starting: boolean,
) {
  try {
    const end = await call(listenerFor(id));
    update((s) => applyDistillEnd(s, id, end));
    if (end.kind === 'nan') reportError(end.message);
  } catch (error) {
    const run = useDistillStore.getState().runs.find((r) => r.id === id);
    if (starting && run && run.setup === null && run.steps.length === 0) update((s) => dropRun(s, id));
    else update((s) => setRunStatus(s, id, starting ? 'failed' : 'stopped'));
    reportError(messageOf(error));
  }
  void recordDistillRuns();
}

/**
 * Starts a run with the form's method and parameters, or (`baseline`) the from-scratch baseline: method `ce`,
 * the same student, settings, seed and labels.
 */
export async function startDistill(kind: 'method' | 'baseline' = 'method'): Promise<void> {
  const state = useDistillStore.getState();
  const { config, error } = checkForm(state.form, 'student');
  if (!config) {
    reportError(error);
    return;
  }
  const method = state.methods?.find(
    (m) => m.id === (kind === 'baseline' ? BASELINE_METHOD : state.methodId),
  );
  if (!method) {
    reportError('the distillation methods are still loading');
    return;
  }
  const checked = checkParams(method, state.paramTexts[method.id] ?? {});
  if (!checked.values) {
    reportError(Object.values(checked.errors).join('; '));
    return;
  }
  const dataset = useDatasetStore.getState().summary;
  if (!dataset) {
    reportError('the dataset is still loading');
    return;
  }
  const params = checked.values;
  const { labelledFraction } = state;
  const { state: next, id } = beginDistillRun(state, {
    method: method.id,
    methodLabel: method.label,
    params,
    labelledFraction,
    config,
    datasetId: dataset.id,
    datasetName: dataset.name,
  });
  useDistillStore.setState(next);
  void recordDistillRuns();
  await follow(
    id,
    (listener) =>
      engine().startRun('distill', { method: method.id, params, labelledFraction, train: config }, listener),
    true,
  );
}

export function pauseDistill(): Promise<void> {
  const run = liveRun(useDistillStore.getState());
  if (run?.status === 'running') update((s) => setRunStatus(s, run.id, 'pausing'));
  return engine()
    .pauseRun('distill')
    .catch((error: unknown) => reportError(messageOf(error)));
}

export async function resumeDistill(): Promise<void> {
  const run = liveRun(useDistillStore.getState());
  if (!run || run.status !== 'paused') return;
  update((s) => updateRunById(s, run.id, (r) => ({ ...r, status: 'running', blowUp: null })));
  await follow(run.id, (listener) => engine().resumeRun('distill', listener), false);
}

export async function stopDistill(): Promise<void> {
  const run = liveRun(useDistillStore.getState());
  if (!run) return;
  // A running run answers through its start/resume call; a paused one has none pending.
  update((s) => setRunStatus(s, run.id, run.status === 'paused' ? 'stopped' : 'stopping'));
  void recordDistillRuns();
  try {
    await engine().stopRun('distill');
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** Continues the distillation an earlier visit saved: on its dataset, from its teacher, with its curves. */
export async function resumeSavedDistillation(): Promise<void> {
  const saved = useDistillStore.getState().savedRun;
  if (!saved) return;
  const { summary } = useDatasetStore.getState();
  if (summary?.id !== saved.datasetId) {
    reportError(
      `The saved distillation trains on ${saved.datasetName}; choose that dataset first (the active one is ${summary?.name ?? 'still loading'}).`,
    );
    return;
  }
  update((s) => ({ ...s, savedRun: null }));
  let id: number;
  try {
    const restored = await engine().restoreSavedRun('distill');
    const next = applyRestoredDistillation(useDistillStore.getState(), restored, summary);
    useDistillStore.setState(next.state);
    id = next.id;
  } catch (error) {
    update((s) => ({ ...s, savedRun: saved }));
    reportError(messageOf(error));
    return;
  }
  if (useDistillStore.getState().runs.find((r) => r.id === id)?.status === 'paused') await resumeDistill();
}

export async function discardSavedDistillation(): Promise<void> {
  try {
    await engine().discardSavedRun('distill');
    update((s) => ({ ...s, savedRun: null }));
  } catch (error) {
    reportError(messageOf(error));
  }
}
