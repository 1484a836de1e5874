import type { BackendName } from './backend/chooseBackend';
import { type BackendReport, type InitBackendOptions, initBackend } from './backend/initBackend';
import type { Dataset } from './data/cifar10';
import { loadPreparedSet, type PreparedSetId } from './data/prepared';
import { type SampleImage, sampleImages } from './data/samples';
import { type DatasetSummary, summarizeDataset } from './data/stats';
import { datasetFromUploads, type UploadedFile } from './data/upload';

export interface SessionHost extends InitBackendOptions {
  /** Reads a prepared data file by its path under data/ (fetch in a Worker, fs in Node). */
  readonly readPreparedFile: (relativePath: string) => Promise<Uint8Array>;
}

/**
 * The engine's state for one lab: the backend and the active dataset. Hosts (the Worker, the CLI, tests)
 * call it; every method either succeeds or throws with the active dataset untouched.
 */
export class LabSession {
  private dataset: Dataset | null = null;

  constructor(private readonly host: SessionHost) {}

  initBackend(requested?: BackendName): Promise<BackendReport> {
    return initBackend(requested, this.host);
  }

  async usePreparedSet(id: PreparedSetId): Promise<DatasetSummary> {
    return this.activate(await loadPreparedSet(id, this.host.readPreparedFile));
  }

  useUploads(files: readonly UploadedFile[]): DatasetSummary {
    return this.activate(datasetFromUploads(files));
  }

  samples(count: number, seed: number): SampleImage[] {
    return sampleImages(this.activeDataset(), count, seed);
  }

  activeDataset(): Dataset {
    if (!this.dataset) throw new Error('no dataset is loaded yet');
    return this.dataset;
  }

  private activate(dataset: Dataset): DatasetSummary {
    this.dataset = dataset;
    return summarizeDataset(dataset);
  }
}
