import { create } from 'zustand';
import type {
  BackendName,
  BackendReport,
  DatasetSummary,
  PreparedSetId,
  SampleImage,
} from '../worker/protocol';

export interface BackendState {
  readonly status: 'starting' | 'ready' | 'failed';
  readonly requested: BackendName | undefined;
  readonly report: BackendReport | null;
}

export const useBackendStore = create<BackendState>(() => ({
  status: 'starting',
  requested: undefined,
  report: null,
}));

export interface DatasetState {
  readonly status: 'idle' | 'loading' | 'ready';
  /** What is loading or loaded: a prepared set, or 'upload'. */
  readonly source: PreparedSetId | 'upload';
  readonly summary: DatasetSummary | null;
  readonly samples: readonly SampleImage[];
  readonly sampleSeed: number;
}

export const useDatasetStore = create<DatasetState>(() => ({
  status: 'idle',
  source: 'embedded',
  summary: null,
  samples: [],
  sampleSeed: 1,
}));

/** User-facing problems: one banner, newest first; nothing is lost when one is shown. */
export interface NoticeState {
  readonly errors: readonly string[];
}

export const useNoticeStore = create<NoticeState>(() => ({ errors: [] }));

export const reportError = (message: string) =>
  useNoticeStore.setState((s) => ({
    errors: [message, ...s.errors.filter((m) => m !== message)].slice(0, 5),
  }));
export const dismissErrors = () => useNoticeStore.setState({ errors: [] });
