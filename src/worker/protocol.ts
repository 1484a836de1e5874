/**
 * The only door between the UI and the engine: what the Worker exposes (through comlink). Plain data in and
 * out; errors arrive as rejected promises whose message is ready to show.
 */
import type { BackendName } from '../engine/backend/chooseBackend';
import type { BackendReport } from '../engine/backend/initBackend';
import type { PreparedSetId } from '../engine/data/prepared';
import type { SampleImage } from '../engine/data/samples';
import type { DatasetSummary } from '../engine/data/stats';

export type { BackendName, BackendReport, DatasetSummary, PreparedSetId, SampleImage };

export interface EngineApi {
  initBackend(requested?: BackendName): Promise<BackendReport>;
  usePreparedSet(id: PreparedSetId): Promise<DatasetSummary>;
  /** Files are read and parsed in the Worker; on any error the active dataset stays. */
  useUploads(files: File[]): Promise<DatasetSummary>;
  samples(count: number, seed: number): Promise<SampleImage[]>;
}
