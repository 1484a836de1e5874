/** What the UI can ask for. Each action talks to the engine Worker and writes the stores; the UI reads them. */
import type { BackendName, DatasetSummary, PreparedSetId } from '../worker/protocol';
import { prepareDistillation } from './distillActions';
import { getEngine, messageOf } from './engineClient';
import { reportError, useBackendStore, useDatasetStore } from './stores';
import { remeasureTeacher } from './teacherActions';
import { prepareTraining } from './trainingActions';
import { parseUrlConfig } from './urlConfig';
import { restoreDistillWhenReady, writeUrlNow } from './urlSync';

export const SAMPLE_COUNT = 48;

const engine = () => getEngine(reportError);

export async function chooseBackendAction(requested: BackendName | undefined): Promise<void> {
  useBackendStore.setState({ status: 'starting', requested });
  writeUrlNow();
  try {
    const report = await engine().initBackend(requested);
    useBackendStore.setState({ status: 'ready', report });
  } catch (error) {
    useBackendStore.setState({ status: 'failed' });
    reportError(messageOf(error));
  }
}

async function refreshSamples(seed: number): Promise<void> {
  const samples = await engine().samples(SAMPLE_COUNT, seed);
  useDatasetStore.setState({ samples, sampleSeed: seed });
}

/** Loads a dataset; on failure the previous one stays active and visible, and the banner says why. */
async function switchDataset(
  source: PreparedSetId | 'upload',
  load: () => Promise<DatasetSummary>,
): Promise<void> {
  const previous = useDatasetStore.getState();
  useDatasetStore.setState({ status: 'loading', source });
  try {
    const summary = await load();
    useDatasetStore.setState({ summary });
    await refreshSamples(previous.sampleSeed);
    useDatasetStore.setState({ status: 'ready' });
    writeUrlNow();
    void remeasureTeacher();
  } catch (error) {
    useDatasetStore.setState({ status: previous.summary ? 'ready' : 'idle', source: previous.source });
    reportError(messageOf(error));
  }
}

export const choosePreparedSet = (id: PreparedSetId) => switchDataset(id, () => engine().usePreparedSet(id));

export const uploadFiles = (files: File[]) => switchDataset('upload', () => engine().useUploads(files));

export async function reshuffleSamples(): Promise<void> {
  try {
    await refreshSamples(useDatasetStore.getState().sampleSeed + 1);
  } catch (error) {
    reportError(messageOf(error));
  }
}

let started: Promise<void> | null = null;

/**
 * Start-up, once per page (main.tsx calls it before the first render; React's StrictMode runs effects twice):
 * settings from the URL, the distillation methods, the backend and the dataset, which do not wait on each
 * other; then what training needs (presets, saved runs, the teacher).
 */
export function startLab(): Promise<void> {
  started ??= (async () => {
    const { config, problems } = parseUrlConfig(window.location.search);
    for (const problem of problems) reportError(problem);
    // The link's distillation form, as soon as the methods and the presets are there to check it.
    restoreDistillWhenReady();
    // The methods' declarations need no backend: asked for at once, they are there when the rest is.
    const methods = prepareDistillation();
    await Promise.all([chooseBackendAction(config.backend), choosePreparedSet(config.set)]);
    await Promise.all([prepareTraining(), methods]);
  })();
  return started;
}
