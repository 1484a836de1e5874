/**
 * What the temperature explorer and lecture mode can ask for. The Worker sends the teacher's and a student's
 * logits on the active test split once per model version (explorerState.ts keeps them); everything else the
 * explorer shows is computed in the UI from those. Logits are fetched only once the panel has been on screen or
 * lecture mode is on, and again when the teacher, the student or the dataset changes.
 */
import { create } from 'zustand';
import type { StudentSource } from '../worker/protocol';
import { chooseMethod, pauseDistill, resumeDistill, startDistill } from './distillActions';
import type { DistillRunRecord } from './distillState';
import { useDistillStore } from './distillStores';
import { LECTURE_METHOD, lectureStep } from './lectureState';
import { getEngine, messageOf } from './engineClient';
import {
  type ExplorerState,
  initialExplorerState,
  missingImages,
  type PickMode,
  steppedTemperature,
  temperatureOf,
  withFinishedStudent,
  withPick,
  withPinnedRun,
  withRandomImage,
  withSteppedImage,
  withTeacher,
} from './explorerState';
import { reportError, useDatasetStore } from './stores';
import { isActive, type RunStatus } from './trainingState';
import { useTeacherStore, useTrainingStore } from './trainingStores';

/** `?present=1` opens the lab in lecture mode. */
const presentInUrl = () =>
  typeof window !== 'undefined' && new URLSearchParams(window.location.search).get('present') === '1';

export const useExplorerStore = create<ExplorerState>(() => initialExplorerState(presentInUrl()));

const engine = () => getEngine(reportError);
const update = (change: (state: ExplorerState) => ExplorerState) => useExplorerStore.setState(change);

let wanted = false;

/** What the teacher's logits depend on: the teacher (loaded, or a run's position) and the dataset. */
function teacherKey(previous: string | null): string | null {
  const { summary, status } = useDatasetStore.getState();
  if (!summary || status !== 'ready') return previous;
  const run = useTrainingStore.getState().teacher;
  // A teacher in training changes every step: the explorer keeps what it has until the run settles.
  if (isActive(run.status)) return previous;
  const info = useTeacherStore.getState().info;
  if (info) return `${summary.id}|${info.source}|${info.name}`;
  if (run.position) return `${summary.id}|run|${run.position.completedEpochs}|${run.position.stepInEpoch}`;
  return null;
}

/** The latest distillation the engine holds (its set-up reported), or null. */
function latestDistillation(): DistillRunRecord | null {
  const runs = useDistillStore.getState().runs;
  const last = runs[runs.length - 1];
  return last?.setup ? last : null;
}

/** What a student's logits depend on: the source, its run and the epochs it has completed, the dataset. */
function studentKey(source: StudentSource): string | null {
  const dataset = useExplorerStore.getState().teacher?.datasetId;
  if (!dataset) return null;
  const settled = (status: RunStatus) => (isActive(status) ? 'training' : status);
  if (source === 'distillation') {
    const run = latestDistillation();
    return run && `${dataset}|d${run.id}|${run.epochs.length}|${settled(run.status)}`;
  }
  const run = useTrainingStore.getState().student;
  return run.position && `${dataset}|s|${run.position.completedEpochs}|${settled(run.status)}`;
}

let teacherRequested: string | null = null;

async function loadTeacherLogits(): Promise<void> {
  const key = teacherKey(teacherRequested);
  // Without a teacher the message still follows the Teacher panel (loading, then none shipped).
  if (!wanted || (key !== null && key === teacherRequested)) return;
  teacherRequested = key;
  if (key === null) {
    const { shipped, loading } = useTeacherStore.getState();
    const message =
      shipped === 'unknown' || loading
        ? 'Waiting for the teacher to load…'
        : 'No teacher yet: load the shipped one, import one, or train one in the Teacher panel.';
    if (useExplorerStore.getState().teacherMessage !== message)
      update((s) => ({ ...s, teacherStatus: 'idle', teacherMessage: message }));
    return;
  }
  update((s) => ({ ...s, teacherStatus: 'loading', teacherMessage: null }));
  try {
    const teacher = await engine().teacherLogits();
    if (teacherRequested !== key) return;
    update((s) => withTeacher(s, teacher));
    void loadImages();
    void loadStudentLogits();
  } catch (error) {
    if (teacherRequested === key)
      update((s) => ({ ...s, teacherStatus: 'failed', teacherMessage: messageOf(error) }));
  }
}

let studentLoaded: string | null = null;
let studentInFlight = false;

async function loadStudentLogits(): Promise<void> {
  const { studentSource: source, teacher, pinnedRun } = useExplorerStore.getState();
  if (!wanted || !teacher || studentInFlight || pinnedRun !== null) return;
  const key = studentKey(source);
  if (key === studentLoaded) return;
  studentLoaded = key;
  if (key === null) {
    update((s) => ({
      ...s,
      student: null,
      studentStatus: 'idle',
      studentMessage:
        source === 'distillation'
          ? 'No distilled student yet: start a distillation.'
          : 'No student yet: train one in the Student panel.',
    }));
    return;
  }
  studentInFlight = true;
  update((s) => ({ ...s, studentStatus: 'loading' }));
  try {
    const student = await engine().studentLogits(source);
    const now = useExplorerStore.getState();
    if (now.studentSource === source && now.pinnedRun === null)
      update((s) => ({ ...s, student, studentStatus: 'ready', studentMessage: null }));
  } catch (error) {
    update((s) => ({ ...s, student: null, studentStatus: 'failed', studentMessage: messageOf(error) }));
  } finally {
    studentInFlight = false;
  }
  // The student may have moved on (another epoch) while these were computed.
  void loadStudentLogits();
}

async function loadImages(): Promise<void> {
  const missing = missingImages(useExplorerStore.getState());
  if (!missing.length) return;
  try {
    const images = await engine().testImages(missing);
    const datasetId = useExplorerStore.getState().teacher?.datasetId;
    if (datasetId !== useDatasetStore.getState().summary?.id) return;
    update((s) => ({
      ...s,
      images: { ...s.images, ...Object.fromEntries(images.map((image) => [image.index, image])) },
    }));
  } catch (error) {
    reportError(messageOf(error));
  }
}

let capturing: number | null = null;

/**
 * Keeps the final student logits of a distillation that has finished (done or stopped), so that it can still be
 * shown once a newer run has replaced it in the engine.
 */
async function keepFinishedStudent(): Promise<void> {
  const run = latestDistillation();
  const state = useExplorerStore.getState();
  if (!wanted || !state.teacher || !run || capturing !== null || run.id in state.finishedStudents) return;
  if (run.status !== 'done' && run.status !== 'stopped') return;
  capturing = run.id;
  try {
    const logits = await engine().studentLogits('distillation');
    // A newer run may have replaced this one in the engine meanwhile: then these logits are not its.
    if (latestDistillation()?.id === run.id) update((s) => withFinishedStudent(s, run.id, logits));
  } catch {
    // The run is gone from the engine (its teacher was replaced): nothing to keep.
  } finally {
    capturing = null;
  }
}

const refresh = () => {
  void loadTeacherLogits();
  void loadStudentLogits();
  void keepFinishedStudent();
};

let subscribed = false;

/** The explorer is on screen (or lecture mode is on): fetch what it shows, and follow changes from now on. */
export function wantExplorer(): void {
  wanted = true;
  if (!subscribed) {
    subscribed = true;
    useDatasetStore.subscribe(refresh);
    useTeacherStore.subscribe(refresh);
    useTrainingStore.subscribe(refresh);
    useDistillStore.subscribe(refresh);
  }
  refresh();
}

export const setTemperature = (temperature: number) => update((s) => ({ ...s, temperature }));
export const setSlider = (slider: number) => setTemperature(temperatureOf(slider));
export const stepTemperature = (steps: number) =>
  update((s) => ({ ...s, temperature: steppedTemperature(s.temperature, steps) }));

function thenImages(change: (state: ExplorerState) => ExplorerState): void {
  update(change);
  void loadImages();
}

export const choosePick = (pick: PickMode) => thenImages((s) => withPick(s, pick));
export const reshufflePick = () => thenImages((s) => withPick(s, s.pick, s.seed + 1));
export const showRandomImage = () => thenImages(withRandomImage);
export const selectImage = (index: number) => thenImages((s) => ({ ...s, selected: index }));
export const stepImage = (direction: number) => thenImages((s) => withSteppedImage(s, direction));

/** The student shown beside the teacher: a live source, or (`run:<id>`) a finished distillation's. */
export function chooseStudent(choice: string): void {
  if (choice.startsWith('run:')) {
    update((s) => withPinnedRun(s, Number(choice.slice('run:'.length))));
    return;
  }
  const studentSource = choice as StudentSource;
  update((s) => ({
    ...s,
    studentSource,
    pinnedRun: null,
    student: null,
    studentStatus: 'idle',
    studentMessage: null,
  }));
  studentLoaded = null;
  void loadStudentLogits();
}

export function setPresent(present: boolean): void {
  update((s) => ({ ...s, present }));
  if (present) wantExplorer();
}

/** After a lecture run: a finished KD run without its baseline gets one, trained next. */
async function baselineAfterLecture(): Promise<void> {
  if (useExplorerStore.getState().present && lectureStep(useDistillStore.getState().runs) === 'baseline')
    await startDistill('baseline');
}

/**
 * Space in lecture mode (lectureState.ts decides): pauses the running distillation, resumes a paused one, or
 * starts a KD run with the Distillation panel's settings; when it has finished, its baseline trains next, so
 * that both accuracy curves end up side by side.
 */
export async function toggleLectureRun(): Promise<void> {
  switch (lectureStep(useDistillStore.getState().runs)) {
    case 'pause':
      return pauseDistill();
    case 'resume':
      await resumeDistill();
      return baselineAfterLecture();
    case 'wait':
      return;
    case 'baseline':
      return baselineAfterLecture();
    case 'start':
      chooseMethod(LECTURE_METHOD);
      await startDistill('method');
      return baselineAfterLecture();
  }
}
