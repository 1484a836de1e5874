import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../engine/data/cifar10';
import { loadPreparedSet, type PreparedSetId } from '../engine/data/prepared';
import { datasetFromUploads } from '../engine/data/upload';

/** Where `npm run data` writes: the same folder the browser is served from. */
export const PREPARED_DATA_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'public',
  'data',
);

export function loadPreparedFromDisk(id: PreparedSetId, dir = PREPARED_DATA_DIR): Promise<Dataset> {
  return loadPreparedSet(id, async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch {
      throw new Error(`${join(dir, path)} is missing: run \`npm run data\` first`);
    }
  });
}

/** Reads user files exactly as the browser's upload path does (same parser, same messages). */
export async function loadFilesFromDisk(paths: readonly string[]): Promise<Dataset> {
  const files = await Promise.all(
    paths.map(async (path) => {
      try {
        return { name: basename(path), bytes: new Uint8Array(await readFile(path)) };
      } catch (error) {
        throw new Error(`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? error})`, {
          cause: error,
        });
      }
    }),
  );
  return datasetFromUploads(files);
}
