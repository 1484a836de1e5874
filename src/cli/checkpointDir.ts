import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FILES, type CheckpointStore } from '../engine/training/checkpoint';
import { METHOD_FILES } from '../engine/distill/methodCheckpoint';
import { RUN_CONTEXT_FILE, type RunSlot } from '../engine/training/savedRuns';

/**
 * A checkpoint folder. Writes go to `<dir>.partial` and are swapped in whole, so an interrupted save leaves the
 * previous checkpoint intact.
 */
export function folderStore(dir: string): CheckpointStore {
  return {
    async write(files) {
      const partial = `${dir}.partial`;
      const old = `${dir}.old`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(partial, { recursive: true });
      await Promise.all(Object.entries(files).map(([name, data]) => writeFile(join(partial, name), data)));
      await rm(old, { recursive: true, force: true });
      await rename(dir, old).catch(() => undefined);
      await rename(partial, dir);
      await rm(old, { recursive: true, force: true });
    },
    async read(name) {
      try {
        return new Uint8Array(await readFile(join(dir, name)));
      } catch (error) {
        throw new Error(
          `${join(dir, name)}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

/** A checkpoint folder as a run's slot: it exists once a whole checkpoint is in it; clear removes the folder. */
export function folderSlot(dir: string): RunSlot {
  return {
    ...folderStore(dir),
    exists: () =>
      access(join(dir, CHECKPOINT_FILES.state)).then(
        () => true,
        () => false,
      ),
    // Only a checkpoint's own files go: an --out folder may hold other things.
    clear: async () => {
      const names = [...Object.values(CHECKPOINT_FILES), ...Object.values(METHOD_FILES), RUN_CONTEXT_FILE];
      await Promise.all(names.map((name) => rm(join(dir, name), { force: true })));
    },
  };
}
