/**
 * Saved runs in IndexedDB (through `idb`), for the browser's Worker. A save writes its files under a new
 * generation key, and only after that transaction has committed does the slot's pointer move to it; so a tab
 * closed or crashed mid-save keeps the previous checkpoint, and the half-written generation is swept by the
 * next save. Browser storage is the Worker host's, not the engine's (which also runs in Node for the CLI): the
 * engine only sees the RunSlots interface (src/engine/training/savedRuns.ts).
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { RunSlot, RunSlots } from '../engine/training/savedRuns';

interface CheckpointDb extends DBSchema {
  /** File contents, keyed `<slot>/<generation>/<file name>`. */
  files: { key: string; value: Uint8Array | string };
  /** Slot name -> the generation its complete checkpoint lives under. */
  current: { key: string; value: string };
}

const DB_NAME = 'distillery-checkpoints';
const DB_VERSION = 1;

let database: Promise<IDBPDatabase<CheckpointDb>> | null = null;

function open(): Promise<IDBPDatabase<CheckpointDb>> {
  database ??= openDB<CheckpointDb>(DB_NAME, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('files');
      db.createObjectStore('current');
    },
  });
  return database;
}

const fileKey = (slot: string, generation: string, name: string) => `${slot}/${generation}/${name}`;
/** Every file key of a slot, whatever its generation. */
const slotRange = (slot: string) => IDBKeyRange.bound(`${slot}/`, `${slot}/\uffff`);

function indexedDbRunSlot(slot: string): RunSlot {
  return {
    async write(files) {
      const db = await open();
      const generation = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const write = db.transaction('files', 'readwrite');
      await Promise.all([
        ...Object.entries(files).map(([name, data]) =>
          write.store.put(data, fileKey(slot, generation, name)),
        ),
        write.done,
      ]);
      // The swap: point at the new generation, then drop every other one (the previous save, and any
      // generation a crash left without a pointer).
      const swap = db.transaction(['files', 'current'], 'readwrite');
      const fileStore = swap.objectStore('files');
      await swap.objectStore('current').put(generation, slot);
      const keys = await fileStore.getAllKeys(slotRange(slot));
      const keep = `${slot}/${generation}/`;
      await Promise.all([
        ...keys.filter((key) => !key.startsWith(keep)).map((key) => fileStore.delete(key)),
        swap.done,
      ]);
    },
    async read(name) {
      const db = await open();
      const generation = await db.get('current', slot);
      if (generation === undefined) throw new Error(`no saved ${slot} run in this browser`);
      const data = await db.get('files', fileKey(slot, generation, name));
      if (data === undefined) throw new Error(`the saved ${slot} run has no ${name}`);
      return typeof data === 'string' ? new TextEncoder().encode(data) : data;
    },
    async exists() {
      const db = await open();
      return (await db.get('current', slot)) !== undefined;
    },
    async clear() {
      const db = await open();
      const tx = db.transaction(['files', 'current'], 'readwrite');
      await Promise.all([
        tx.objectStore('current').delete(slot),
        tx.objectStore('files').delete(slotRange(slot)),
        tx.done,
      ]);
    },
  };
}

/** The browser's saved runs: one slot per role. */
export const indexedDbRunSlots: RunSlots = (role) => indexedDbRunSlot(role);
