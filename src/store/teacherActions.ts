/**
 * What the Teacher panel can ask for about the teacher itself: load the shipped one, import one, and measure its
 * accuracy in the background (cancellable, yielding to runs). Training a teacher is in trainingActions.ts.
 */
import { getEngine, messageOf } from './engineClient';
import { reportError } from './stores';
import { initialRoleTraining } from './trainingState';
import { updateRole, useTeacherStore } from './trainingStores';

const engine = () => getEngine(reportError);

/** A trained, imported or loaded teacher replaces the teacher run shown, if any (the engine dropped it). */
const clearTeacherRun = () => updateRole('teacher', (s) => ({ ...initialRoleTraining(), form: s.form }));

/**
 * Loads a teacher (the Teacher panel shows it loading meanwhile; distillation waits only for this), then
 * measures it in the background: an accuracy stored with the model shows at once, the measurement confirms it.
 */
async function loadTeacher(load: () => Promise<void>): Promise<void> {
  useTeacherStore.setState({ loading: true });
  try {
    await load();
  } catch (error) {
    reportError(messageOf(error));
    return;
  } finally {
    useTeacherStore.setState({ loading: false });
  }
  void measureTeacher();
}

/** The shipped teacher, if the lab has one; says plainly when it has none. */
export const loadShippedTeacher = () =>
  loadTeacher(async () => {
    const info = await engine().loadShippedTeacher();
    if (!info) {
      useTeacherStore.setState({ shipped: 'missing' });
      return;
    }
    useTeacherStore.setState({ shipped: 'available' });
    if (info.source === 'shipped') {
      useTeacherStore.setState({ info });
      clearTeacherRun();
    }
  });

export const importTeacher = (files: File[]) =>
  loadTeacher(async () => {
    const info = await engine().importTeacher(files);
    useTeacherStore.setState({ info });
    clearTeacherRun();
  });

/**
 * Measures the loaded teacher's test accuracy on the active dataset, in the background. It never blocks a
 * start: a run starting cancels it in the Worker, and so does the Cancel button beside it.
 */
let measurementInFlight: Promise<void> | null = null;

export function measureTeacher(): Promise<void> {
  const { info, loading } = useTeacherStore.getState();
  // Loading: the load measures when it ends. A teacher run reports its own accuracy per epoch.
  if (loading || !info || info.source === 'trained') return Promise.resolve();
  measurementInFlight ??= (async () => {
    useTeacherStore.setState({ measuring: true, measurementCancelled: false });
    try {
      const result = await engine().measureTeacher();
      useTeacherStore.setState((s) => ({
        info: result.info ?? s.info,
        measurementCancelled: result.outcome === 'cancelled',
      }));
    } catch (error) {
      reportError(`The teacher's accuracy could not be measured: ${messageOf(error)}`);
    } finally {
      useTeacherStore.setState({ measuring: false });
      measurementInFlight = null;
    }
  })();
  return measurementInFlight;
}

export async function cancelTeacherMeasurement(): Promise<void> {
  try {
    await engine().cancelTeacherMeasurement();
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** After a dataset switch: the accuracy known for the new dataset at once, then a fresh measurement. */
export async function remeasureTeacher(): Promise<void> {
  const { info, loading } = useTeacherStore.getState();
  if (loading || !info || info.source === 'trained') return;
  try {
    const now = await engine().teacherInfo();
    if (now && now.source !== 'trained') useTeacherStore.setState({ info: now });
  } catch (error) {
    reportError(messageOf(error));
    return;
  }
  // A measurement of the old dataset in flight yields to the new one.
  const previous = measurementInFlight;
  if (previous) {
    await cancelTeacherMeasurement();
    await previous;
  }
  await measureTeacher();
}
