/**
 * N jobs at a time, resumable: each job has a folder under the work folder, and each finished phase of it
 * (a training, its OoD analysis, ...) leaves `<phase>.json` there with the job's settings. Run again with the
 * same settings, a finished phase is read back instead of run; a phase that did not finish starts again.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Runs `work` over `items`, at most `concurrency` at once, in order of start; stops taking new ones on stop(). */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
  stop: () => boolean = () => false,
): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Runs `fn` unless `<dir>/<phase>.json` holds its result for the same settings (the job's, or the phase's own
 * when given: a training need not rerun when only its analysis changed); writes it when it succeeds.
 */
export type Memo = <R>(phase: string, fn: () => Promise<R>, settings?: unknown) => Promise<R>;

interface Stored<R> {
  readonly settings: unknown;
  readonly result: R;
}

export function memoIn(dir: string, jobSettings: unknown): Memo {
  return async <R>(phase: string, fn: () => Promise<R>, settings: unknown = jobSettings): Promise<R> => {
    const path = join(dir, `${phase}.json`);
    const kept = await readFile(path, 'utf8').then(
      (text) => JSON.parse(text) as Stored<R>,
      () => null,
    );
    if (kept && JSON.stringify(kept.settings) === JSON.stringify(settings)) return kept.result;
    const result = await fn();
    await mkdir(dir, { recursive: true });
    // Written whole, then renamed: a killed run never leaves half a result behind.
    await writeFile(`${path}.partial`, JSON.stringify({ settings, result } satisfies Stored<R>, null, 1));
    await rename(`${path}.partial`, path);
    return result;
  };
}

/** Default --jobs: one training per core. */
export { availableParallelism as defaultJobs } from 'node:os';
