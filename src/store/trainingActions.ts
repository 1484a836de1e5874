/**
 * What the Teacher and Student panels can ask for about training runs. Each action talks to the engine Worker
 * and writes the stores; training itself runs in the Worker, which reports through a listener (a comlink proxy).
 * Loading and measuring a teacher is in teacherActions.ts.
 */
import * as Comlink from 'comlink';
import {
  type ModelRole,
  type NamedFile,
  type RunEnd,
  type RunProgressListener,
  TRAIN_ON_LABELS,
} from '../worker/protocol';
import { applySavedDistillation } from './distillState';
import { useDistillStore } from './distillStores';
import { getEngine, messageOf } from './engineClient';
import { recordTrainingRun } from './history/historyStore';
import { reportError, useDatasetStore } from './stores';
import { checkForm, editedForm, type TrainForm } from './trainForm';
import { applyProgress, applyRestored, applyRewind, applyRunEnd, beginRun } from './trainingState';
import { applySaved } from './runProgress';
import { updateRole, usePresetStore, useTeacherStore, useTrainingStore } from './trainingStores';
import { loadShippedTeacher } from './teacherActions';

const engine = () => getEngine(reportError);

export function editForm(role: ModelRole, patch: Partial<TrainForm>): void {
  updateRole(role, (s) => ({ ...s, form: editedForm(s.form, patch) }));
}

function listenerFor(role: ModelRole): RunProgressListener {
  return Comlink.proxy({
    ready: () => undefined,
    saved: (position) => updateRole(role, (s) => applySaved(s, position)),
    progress: (update) => updateRole(role, (s) => applyProgress(s, update)),
    rewound: (restored) => updateRole(role, (s) => applyRewind(s, restored)),
  });
}

/**
 * Follows one start/resume call to its end; a non-finite loss goes to the banner, naming the step. A call the
 * engine refuses before the run reported anything changed nothing there: `undo` puts the panel back.
 */
async function follow(
  role: ModelRole,
  call: (listener: RunProgressListener) => Promise<RunEnd>,
  undo: () => void,
): Promise<void> {
  const reportedBefore = useTrainingStore.getState()[role].position;
  try {
    const end = await call(listenerFor(role));
    updateRole(role, (s) => applyRunEnd(s, end));
    if (end.kind === 'nan') reportError(end.message);
  } catch (error) {
    if (useTrainingStore.getState()[role].position === reportedBefore) undo();
    else updateRole(role, (s) => ({ ...s, status: 'failed' }));
    reportError(messageOf(error));
  }
  void recordTrainingRun(role);
}

export async function startTraining(role: ModelRole): Promise<void> {
  const { form } = useTrainingStore.getState()[role];
  const { config, error } = checkForm(form, role);
  if (!config) {
    reportError(error);
    return;
  }
  const dataset = useDatasetStore.getState().summary;
  if (!dataset) {
    reportError('the dataset is still loading');
    return;
  }
  const panelBefore = useTrainingStore.getState()[role];
  const teacherBefore = useTeacherStore.getState().info;
  updateRole(role, (s) => beginRun(s, config, dataset.name));
  // A teacher run replaces the loaded teacher in the engine.
  if (role === 'teacher') useTeacherStore.setState({ info: null });
  await follow(
    role,
    (listener) => engine().startRun(role, { ...TRAIN_ON_LABELS, train: config }, listener),
    () => {
      updateRole(role, () => panelBefore);
      if (role === 'teacher') useTeacherStore.setState({ info: teacherBefore });
    },
  );
}

export function pauseTraining(role: ModelRole): Promise<void> {
  updateRole(role, (s) => (s.status === 'running' ? { ...s, status: 'pausing' } : s));
  return engine()
    .pauseRun(role)
    .catch((error: unknown) => reportError(messageOf(error)));
}

export async function resumeTraining(role: ModelRole): Promise<void> {
  const panelBefore = useTrainingStore.getState()[role];
  updateRole(role, (s) => ({ ...s, status: 'running', blowUp: null }));
  await follow(
    role,
    (listener) => engine().resumeRun(role, listener),
    () => updateRole(role, () => panelBefore),
  );
}

export async function stopTraining(role: ModelRole): Promise<void> {
  const { status } = useTrainingStore.getState()[role];
  // A running run answers through its start/resume call; a paused one has none pending.
  updateRole(role, (s) => ({ ...s, status: status === 'paused' ? 'stopped' : 'stopping', blowUp: null }));
  void recordTrainingRun(role);
  try {
    await engine().stopRun(role);
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** Continues a run saved by an earlier visit: on its dataset, with its curves. */
export async function resumeSavedRun(role: ModelRole): Promise<void> {
  const saved = useTrainingStore.getState()[role].savedRun;
  if (!saved) return;
  const { summary } = useDatasetStore.getState();
  if (summary?.id !== saved.datasetId) {
    reportError(
      `The saved ${role} run trains on ${saved.datasetName}; choose that dataset first (the active one is ${summary?.name ?? 'still loading'}).`,
    );
    return;
  }
  updateRole(role, (s) => ({ ...s, status: 'starting', savedRun: null }));
  try {
    const restored = await engine().restoreSavedRun(role);
    updateRole(role, (s) => applyRestored(s, restored, summary.name));
    if (role === 'teacher') useTeacherStore.setState({ info: null });
  } catch (error) {
    updateRole(role, (s) => ({ ...s, status: 'idle', savedRun: saved }));
    reportError(messageOf(error));
    return;
  }
  if (useTrainingStore.getState()[role].status === 'paused') await resumeTraining(role);
}

export async function discardSavedRun(role: ModelRole): Promise<void> {
  try {
    await engine().discardSavedRun(role);
    updateRole(role, (s) => ({ ...s, savedRun: null }));
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** Hands files to the browser's downloads, one after the other. */
function download(files: readonly NamedFile[]): void {
  for (const file of files) {
    const url = URL.createObjectURL(new Blob([file.bytes as Uint8Array<ArrayBuffer>]));
    const link = document.createElement('a');
    link.href = url;
    link.download = file.name;
    link.click();
    // The download has its own copy once started; a minute is ample for the browser to begin it.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

export async function exportModel(role: ModelRole): Promise<void> {
  try {
    download(await engine().exportModel(role));
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** The presets and their costs, each role's form on its first preset; the teacher form's model as they left it. */
async function loadPresets(): Promise<string> {
  try {
    const presets = await engine().presets();
    usePresetStore.setState({ presets });
    for (const role of ['teacher', 'student'] as const) {
      const first = presets.find((p) => p.role === role)?.id ?? '';
      updateRole(role, (s) => (s.form.model ? s : { ...s, form: editedForm(s.form, { model: first }) }));
      // The Distillation panel trains a student too.
      if (role === 'student')
        useDistillStore.setState((s) =>
          s.form.model ? s : { ...s, form: editedForm(s.form, { model: first }) },
        );
    }
  } catch (error) {
    reportError(messageOf(error));
  }
  return useTrainingStore.getState().teacher.form.model;
}

/** The runs an earlier visit saved, offered for resuming. */
async function loadSavedRuns(): Promise<void> {
  try {
    for (const run of await engine().savedRuns()) {
      if (run.lane === 'distill') useDistillStore.setState((s) => applySavedDistillation(s, run));
      else updateRole(run.lane, (s) => (s.status === 'idle' ? { ...s, savedRun: run } : s));
    }
  } catch (error) {
    reportError(`The runs saved in this browser could not be read: ${messageOf(error)}`);
  }
}

/**
 * Once the backend and the first dataset are ready: the presets and their costs, the runs an earlier visit
 * saved (offered for resuming), and the shipped teacher. Asked for together, so that the Worker reads the saved
 * runs and the teacher's files while it builds the presets (Distillation's Start waits on the presets and the
 * teacher).
 */
export async function prepareTraining(): Promise<void> {
  const [defaultTeacher] = await Promise.all([loadPresets(), loadSavedRuns(), loadShippedTeacher()]);
  const shipped = useTeacherStore.getState().info;
  // Training a teacher from scratch starts from the shipped one's architecture, unless the user chose another
  // while it was loading.
  const teacherForm = useTrainingStore.getState().teacher;
  if (shipped && teacherForm.status === 'idle' && teacherForm.form.model === defaultTeacher)
    editForm('teacher', { model: shipped.preset });
}
