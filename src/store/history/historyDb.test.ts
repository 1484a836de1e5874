import 'fake-indexeddb/auto';
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HistoryDb, HistoryStorageError, storageProblem } from './historyDb';
import { historyRun } from './testRuns';

// A fresh, empty IndexedDB for each test (fake-indexeddb: the spec's behaviour in Node, transactions included).
beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('the history in IndexedDB', () => {
  it('keeps runs across connections; renames, changes and deletes them', async () => {
    const first = new HistoryDb();
    await first.put([historyRun('a'), historyRun('b')], 'saving');
    // Another connection (a reload) reads the same runs back, oldest first.
    const second = new HistoryDb();
    expect((await second.list()).runs.map((r) => r.id)).toEqual(['a', 'b']);
    expect((await second.rename('a', 'my KD'))!.name).toBe('my KD');
    expect(await second.rename('missing', 'x')).toBeNull();
    await second.delete(['b'], 'deleting');
    const { runs, skipped } = await new HistoryDb().list();
    expect(runs.map((r) => [r.id, r.name])).toEqual([['a', 'my KD']]);
    expect(skipped).toBe(0);
    expect(runs[0]).toEqual({ ...historyRun('a'), name: 'my KD' });
  });

  it('storage full: the write fails as a whole, named QuotaExceededError, and nothing of it is kept', async () => {
    const db = new HistoryDb();
    await db.put([historyRun('kept')], 'saving');
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      // The second record of the transaction does not fit.
      if (++calls === 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    });
    const failure = await db
      .put([historyRun('x'), historyRun('y')], 'importing runs.json')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HistoryStorageError);
    expect((failure as HistoryStorageError).reason).toBe('QuotaExceededError');
    expect((failure as Error).message).toMatch(/^Run history: the browser's storage for this site is full/);
    expect((failure as Error).message).toContain('importing runs.json was not written');
    vi.restoreAllMocks();
    // x went in before y failed; the transaction took it back.
    expect((await new HistoryDb().list()).runs.map((r) => r.id)).toEqual(['kept']);
  });

  it('IndexedDB missing (a browser that blocks storage): a named refusal, for reads and writes', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const db = new HistoryDb();
    const read = await db.list().catch((e: unknown) => e);
    expect((read as HistoryStorageError).reason).toBe('IndexedDBUnavailable');
    expect((read as Error).message).toContain("this browser's storage (IndexedDB) is unavailable");
    const write = await db.put([historyRun('a')], 'saving run "a"').catch((e: unknown) => e);
    expect((write as Error).message).toContain('saving run "a" was not written');
  });

  it('a stored record that does not fit the schema is left out and counted', async () => {
    const db = new HistoryDb();
    await db.put([historyRun('a')], 'saving');
    const request = indexedDB.open('distillery-history', 1);
    await new Promise<void>((resolve, reject) => {
      request.onsuccess = () => {
        const tx = request.result.transaction('runs', 'readwrite');
        tx.objectStore('runs').put({ id: 'broken', format: 'distillery-run', version: 99 });
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      };
    });
    const { runs, skipped } = await db.list();
    expect(runs.map((r) => r.id)).toEqual(['a']);
    expect(skipped).toBe(1);
  });

  it('names each kind of storage failure', () => {
    const problem = (name: string) => storageProblem(new DOMException('x', name), 'saving run "r"');
    expect(problem('SecurityError').message).toContain('(IndexedDB) is unavailable (SecurityError: x)');
    expect(problem('VersionError').message).toContain('blocked by another tab');
    expect(problem('DataCloneError').message).toBe(
      'Run history: saving run "r" failed (DataCloneError: x); nothing of it was written.',
    );
  });
});
