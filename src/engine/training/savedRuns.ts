/**
 * A saved run: one checkpoint per role (teacher, student) that a host keeps across page loads (IndexedDB in
 * the browser, memory in tests), so training survives a reload. Plain TypeScript, no tfjs.
 */
import type { CheckpointStore } from './checkpoint';

/** One role's checkpoint: the files of the latest save, replaced whole by the next one. */
export interface RunSlot extends CheckpointStore {
  /** Whether a complete checkpoint is stored. */
  exists(): Promise<boolean>;
  /** Forgets the checkpoint; a slot with none stays empty. */
  clear(): Promise<void>;
}

/** A slot per lane of the lab ('teacher', 'student', 'distill'). */
export type RunSlots = (lane: 'teacher' | 'student' | 'distill') => RunSlot;

/** The lab's own file beside the tfjs checkpoint: which dataset the run trains on, and when it was saved. */
export const RUN_CONTEXT_FILE = 'lab.json';

export interface RunContext {
  readonly datasetId: string;
  readonly datasetName: string;
  readonly savedAt: string;
}

/** A slot in memory: for hosts without persistent storage (Node, tests). */
export function memoryRunSlot(): RunSlot {
  let files: Record<string, Uint8Array | string> | null = null;
  return {
    async write(next) {
      files = { ...next };
    },
    async read(name) {
      const data = files?.[name];
      if (data === undefined) throw new Error(`${name}: no saved run holds this file`);
      return typeof data === 'string' ? new TextEncoder().encode(data) : data;
    },
    async exists() {
      return files !== null;
    },
    async clear() {
      files = null;
    },
  };
}
