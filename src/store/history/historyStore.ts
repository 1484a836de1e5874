/**
 * The run history's store and actions: every run of every visit, kept in IndexedDB (historyDb.ts) when it ends,
 * listed, renamed, deleted, filtered by method, chosen for the overlay, exported and imported. The table shows
 * what storage holds: the store changes only after a write has gone through, and a write that storage refuses
 * (full, blocked, unavailable) is named in the lab's banner.
 */
import { create } from 'zustand';
import type { ModelRole, OodResult, RunLane } from '../../worker/protocol';
import { useDistillStore } from '../distillStores';
import { reportError, useBackendStore, useDatasetStore } from '../stores';
import { useTrainingStore } from '../trainingStores';
import { continues, fromDistillRun, fromTraining, outcomeOf, type RecordContext } from './fromRuns';
import { oodMeasurementOf } from './oodMeasurement';
import { HistoryDb, HistoryStorageError } from './historyDb';
import { parseRunsFile, runsCsv, runsJson } from './runFiles';
import type { HistoryRun } from './runRecord';

export interface HistoryState {
  /** 'unavailable': storage could not be read (the banner says why); runs of this visit are not kept. */
  readonly status: 'loading' | 'ready' | 'unavailable';
  /** Oldest first. */
  readonly runs: readonly HistoryRun[];
  /** Only runs of this method are listed; null: all. */
  readonly methodFilter: string | null;
  /** Runs chosen for the overlay and the exports, in the order chosen. */
  readonly selected: readonly string[];
  /** The loss term the overlay draws. */
  readonly lossTerm: string;
  /** Why the last imported file was refused. */
  readonly importError: string | null;
}

export const useHistoryStore = create<HistoryState>(() => ({
  status: 'loading',
  runs: [],
  methodFilter: null,
  selected: [],
  lossTerm: 'total',
  importError: null,
}));

const db = new HistoryDb();
const set = (patch: Partial<HistoryState> | ((s: HistoryState) => Partial<HistoryState>)) =>
  useHistoryStore.setState(patch);

function report(error: unknown): void {
  reportError(error instanceof HistoryStorageError ? error.message : `Run history: ${String(error)}`);
}

/** The runs an earlier visit kept. */
export async function loadHistory(): Promise<void> {
  try {
    const { runs, skipped } = await db.list();
    set((s) => ({ status: 'ready', runs: mergeRuns(runs, s.runs) }));
    if (skipped)
      reportError(
        `Run history: ${skipped} saved run${skipped === 1 ? '' : 's'} did not fit this version's record format and ${skipped === 1 ? 'is' : 'are'} not shown.`,
      );
  } catch (error) {
    set({ status: 'unavailable' });
    report(error);
  }
}

/** `extra` (written in this visit while the list was read) after `stored`, each id once. */
const mergeRuns = (stored: readonly HistoryRun[], extra: readonly HistoryRun[]): HistoryRun[] => [
  ...stored.filter((run) => !extra.some((e) => e.id === run.id)),
  ...extra,
];

/** Where randomUUID is missing (a page served over plain http from another host): time and chance. */
const newId = (): string =>
  typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

/**
 * Each run of this visit keeps one history id: a run that ends twice (a non-finite loss, then resumed and
 * done) replaces its record, keeping the name it was given. A run is known by its settings object, which the
 * panels create once per start or restore and keep while the run goes on.
 */
const idsOfRuns = new WeakMap<object, string>();

function context(identity: object): RecordContext {
  let id = idsOfRuns.get(identity);
  if (!id) {
    id = newId();
    idsOfRuns.set(identity, id);
  }
  const summary = useDatasetStore.getState().summary;
  return {
    id,
    now: new Date(),
    backend: useBackendStore.getState().report?.backend ?? null,
    dataset: summary && { id: summary.id, name: summary.name },
  };
}

async function keep(record: HistoryRun): Promise<void> {
  const before = useHistoryStore.getState().runs.find((r) => r.id === record.id);
  const run = before
    ? {
        ...record,
        name: before.name,
        createdAt: before.createdAt,
        ood: before.ood,
        // A run restored from its checkpoint has not timed its steps in this visit.
        msPerStep: record.msPerStep ?? before.msPerStep,
      }
    : record;
  try {
    await db.put([run], `saving run "${run.name}"`);
  } catch (error) {
    report(error);
    return;
  }
  set((s) => ({
    runs: s.runs.some((r) => r.id === run.id)
      ? s.runs.map((r) => (r.id === run.id ? run : r))
      : [...s.runs, run],
  }));
}

/** The panel state last kept for each run (by its settings object): the same state is not written twice. */
const lastKept = new WeakMap<object, object>();

function keepOnce(identity: object, state: object, build: (context: RecordContext) => HistoryRun | null) {
  if (lastKept.get(identity) === state) return Promise.resolve();
  const record = build(context(identity));
  if (!record) return Promise.resolve();
  lastKept.set(identity, state);
  // A run an earlier visit kept, restored here: its record, carried on (keeps its name).
  const { runs } = useHistoryStore.getState();
  const earlier = runs.some((r) => r.id === record.id) ? null : runs.find((r) => continues(record, r));
  if (!earlier) return keep(record);
  idsOfRuns.set(identity, earlier.id);
  return keep({ ...record, id: earlier.id });
}

/**
 * Keeps every run of the Distillation panel that has ended and changed since it was last kept. Call it where
 * runs end: a start or resume call returning, a paused run stopped, a paused run replaced by a new start.
 */
export async function recordDistillRuns(): Promise<void> {
  const { runs } = useDistillStore.getState();
  await Promise.all(runs.map((run) => keepOnce(run.config, run, (c) => fromDistillRun(run, c))));
}

/** Keeps the Teacher or Student panel's run if it has ended (call where a run ends or is stopped). */
export function recordTrainingRun(role: ModelRole): Promise<void> {
  const training = useTrainingStore.getState()[role];
  const { config } = training;
  return config ? keepOnce(config, training, (c) => fromTraining(training, c)) : Promise.resolve();
}

export async function renameRun(id: string, name: string): Promise<void> {
  const trimmed = name.trim().slice(0, 200);
  if (!trimmed) return;
  try {
    const run = await db.rename(id, trimmed);
    if (run) set((s) => ({ runs: s.runs.map((r) => (r.id === id ? run : r)) }));
  } catch (error) {
    report(error);
  }
}

export async function deleteRuns(ids: readonly string[]): Promise<void> {
  try {
    await db.delete(ids, ids.length === 1 ? 'deleting a run' : `deleting ${ids.length} runs`);
  } catch (error) {
    report(error);
    return;
  }
  set((s) => ({
    runs: s.runs.filter((r) => !ids.includes(r.id)),
    selected: s.selected.filter((id) => !ids.includes(id)),
  }));
}

export const toggleSelected = (id: string) =>
  set((s) => ({
    selected: s.selected.includes(id) ? s.selected.filter((x) => x !== id) : [...s.selected, id],
  }));
export const chooseMethodFilter = (methodFilter: string | null) => set({ methodFilter });
export const chooseLossTerm = (lossTerm: string) => set({ lossTerm });

/** The chosen runs, in the order chosen. */
export const selectedRuns = (s: Pick<HistoryState, 'runs' | 'selected'>): HistoryRun[] =>
  s.selected.flatMap((id) => s.runs.find((r) => r.id === id) ?? []);

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // The download has its own copy once started; a minute is ample for the browser to begin it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function exportSelected(kind: 'json' | 'csv'): void {
  const runs = selectedRuns(useHistoryStore.getState());
  if (!runs.length) return;
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
  if (kind === 'json') download(`distillery-runs-${stamp}.json`, runsJson(runs), 'application/json');
  else download(`distillery-runs-${stamp}.csv`, runsCsv(runs), 'text/csv');
}

/**
 * Adds the runs of a JSON file, all or none: a malformed file is refused naming the problem. An imported run
 * whose id the history already holds gets a new one, so an import never overwrites a kept run.
 */
export async function importRunsFile(file: File): Promise<void> {
  set({ importError: null });
  const parsed = parseRunsFile(await file.text());
  if (!parsed.runs) {
    set({ importError: `${file.name} was not imported: ${parsed.error}` });
    return;
  }
  const taken = new Set(useHistoryStore.getState().runs.map((r) => r.id));
  const runs = parsed.runs.map((run) => {
    const id = taken.has(run.id) ? newId() : run.id;
    taken.add(id);
    return { ...run, id };
  });
  try {
    await db.put(runs, `importing ${file.name}`);
  } catch (error) {
    report(error);
    return;
  }
  set((s) => ({ runs: [...s.runs, ...runs] }));
}

/** The history id of a panel's current run, if it has ended and was kept; null otherwise. */
function keptRunOfLane(lane: RunLane): string | null {
  const run = lane === 'distill' ? useDistillStore.getState().runs.at(-1) : useTrainingStore.getState()[lane];
  if (!run?.config || !outcomeOf(run)) return null;
  const id = idsOfRuns.get(run.config);
  return id && useHistoryStore.getState().runs.some((r) => r.id === id) ? id : null;
}

/**
 * A trust-panel result kept with the runs it measured: each scored model that is a panel's ended run (its
 * final weights) gets its ECE and OoD AUROCs in that run's record, replacing an earlier measurement.
 */
export async function recordOodResult(result: OodResult): Promise<void> {
  const now = new Date();
  for (const model of result.models) {
    const id = model.lane ? keptRunOfLane(model.lane) : null;
    const ood = id && oodMeasurementOf(result, model.key, now);
    if (!id || !ood) continue;
    try {
      const run = await db.attachOod(id, ood);
      if (run) set((s) => ({ runs: s.runs.map((r) => (r.id === id ? run : r)) }));
    } catch (error) {
      report(error);
      return;
    }
  }
}
