/**
 * The run history in the browser's IndexedDB (through `idb`). Every write is one transaction, so a write that
 * fails (storage full, storage blocked) leaves nothing of itself behind; its error names the problem in words
 * the lab's banner can show. Records read back are checked against the record schema: one that does not fit
 * (written by a later version, edited by hand) is left out and counted, never shown half-read.
 */
import { type IDBPDatabase, type IDBPObjectStore, openDB } from 'idb';
import { checkRun, type HistoryRun, type OodMeasurement } from './runRecord';

const DB_NAME = 'distillery-history';
const DB_VERSION = 1;
const STORE = 'runs';

/** A history operation that failed; `message` says what and why, ready for the banner. */
export class HistoryStorageError extends Error {
  constructor(
    message: string,
    /** The DOMException's name (QuotaExceededError, InvalidStateError, ...), or 'IndexedDBUnavailable'. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'HistoryStorageError';
  }
}

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';
const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Names why storage refused `action` ("saving run …"), for the lab's banner. */
export function storageProblem(error: unknown, action: string): HistoryStorageError {
  if (error instanceof HistoryStorageError) return error;
  const name = errorName(error);
  const detail = errorMessage(error);
  switch (name) {
    case 'QuotaExceededError':
      return new HistoryStorageError(
        `Run history: the browser's storage for this site is full (QuotaExceededError), so ${action} was not written; nothing of it was kept. Delete runs from the history or free space for this site.`,
        name,
      );
    case 'IndexedDBUnavailable':
    case 'InvalidStateError':
    case 'SecurityError':
    case 'UnknownError':
      return new HistoryStorageError(
        `Run history: this browser's storage (IndexedDB) is unavailable (${name}${detail ? `: ${detail}` : ''}), so ${action} was not written; runs are not kept after a reload.`,
        name,
      );
    case 'VersionError':
    case 'Blocked':
      return new HistoryStorageError(
        `Run history: storage is blocked by another tab of the lab holding a different version of the history open (${name}), so ${action} was not written; close the other tabs and reload.`,
        name,
      );
    default:
      return new HistoryStorageError(
        `Run history: ${action} failed (${name}: ${detail}); nothing of it was written.`,
        name,
      );
  }
}

type RunStore = IDBPObjectStore<unknown, [typeof STORE], typeof STORE, 'readwrite'>;

export class HistoryDb {
  private db: Promise<IDBPDatabase> | null = null;

  private open(): Promise<IDBPDatabase> {
    if (typeof indexedDB === 'undefined') {
      const error = new Error('window.indexedDB is missing');
      error.name = 'IndexedDBUnavailable';
      return Promise.reject(error);
    }
    this.db ??= openDB(DB_NAME, DB_VERSION, {
      upgrade(db) {
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'id' });
      },
      blocked: () => undefined,
      // A newer version of the lab in another tab wants to upgrade: let it (this tab reopens on its next call).
      blocking: () => {
        void this.db?.then((db) => db.close());
        this.db = null;
      },
    }).catch((error: unknown) => {
      this.db = null;
      throw error;
    });
    return this.db;
  }

  /** Runs `work` in one readwrite transaction: all of it is written, or (on any error) none. */
  private async write<T>(action: string, work: (store: RunStore) => Promise<T>): Promise<T> {
    let db: IDBPDatabase;
    try {
      db = await this.open();
    } catch (error) {
      throw storageProblem(error, action);
    }
    const tx = db.transaction(STORE, 'readwrite');
    // Rejects when the transaction aborts; awaited below, or observed here so it is never unhandled.
    const done = tx.done;
    done.catch(() => undefined);
    try {
      const result = await work(tx.objectStore(STORE));
      await done;
      return result;
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // Already aborted by the failed request, or already finished.
      }
      throw storageProblem(tx.error ?? error, action);
    }
  }

  /** Every stored run that fits the record schema, oldest first; `skipped` counts those that do not. */
  async list(): Promise<{ runs: HistoryRun[]; skipped: number }> {
    let values: unknown[];
    try {
      values = await (await this.open()).getAll(STORE);
    } catch (error) {
      throw storageProblem(error, 'reading the saved runs');
    }
    const runs: HistoryRun[] = [];
    let skipped = 0;
    for (const value of values) {
      const { run } = checkRun(value);
      if (run) runs.push(run);
      else skipped++;
    }
    runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { runs, skipped };
  }

  /** Adds or replaces runs (by id), all in one transaction. */
  put(runs: readonly HistoryRun[], action: string): Promise<void> {
    return this.write(action, async (store) => {
      for (const run of runs) await store.put(run);
    });
  }

  delete(ids: readonly string[], action: string): Promise<void> {
    return this.write(action, async (store) => {
      for (const id of ids) await store.delete(id);
    });
  }

  /** Changes one stored run (read and written back in one transaction); the changed run, or null if gone. */
  update(id: string, change: (run: HistoryRun) => HistoryRun, action: string): Promise<HistoryRun | null> {
    return this.write(action, async (store) => {
      const { run } = checkRun(await store.get(id));
      if (!run) return null;
      const changed = change(run);
      await store.put(changed);
      return changed;
    });
  }

  rename(id: string, name: string): Promise<HistoryRun | null> {
    return this.update(id, (run) => ({ ...run, name }), `renaming a run to "${name}"`);
  }

  attachOod(id: string, ood: OodMeasurement): Promise<HistoryRun | null> {
    return this.update(id, (run) => ({ ...run, ood }), 'saving the OoD measurement');
  }
}
