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

/** A user-facing problem; the same message again moves it to the top and counts it instead of repeating it. */
export interface Notice {
  readonly id: number;
  readonly message: string;
  readonly count: number;
}

/** User-facing problems: one banner, newest first; nothing is lost when one is shown. */
export interface NoticeState {
  readonly errors: readonly Notice[];
}

/** Older messages beyond this are dropped: a banner that grows without end hides the page it is about. */
export const MAX_NOTICES = 20;

export const useNoticeStore = create<NoticeState>(() => ({ errors: [] }));

let nextNoticeId = 1;

export const reportError = (message: string) =>
  useNoticeStore.setState((s) => {
    const same = s.errors.find((n) => n.message === message);
    const notice = { id: nextNoticeId++, message, count: (same?.count ?? 0) + 1 };
    return { errors: [notice, ...s.errors.filter((n) => n !== same)].slice(0, MAX_NOTICES) };
  });
export const dismissError = (id: number) =>
  useNoticeStore.setState((s) => ({ errors: s.errors.filter((n) => n.id !== id) }));
export const dismissErrors = () => useNoticeStore.setState({ errors: [] });
