import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointStore } from '../engine/training/checkpoint';

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
