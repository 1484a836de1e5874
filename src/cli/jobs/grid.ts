/**
 * A grid of jobs (reproduce's method x seed, sweep's T x alpha) run N at a time in child processes, one
 * progress line each, resumable through each job's folder under the work folder (pool.ts). Ctrl-C reaches the
 * children from the terminal (each saves its checkpoint and stops); the grid then starts nothing new and
 * reports what finished. SIGTERM to this process alone is passed on to the children.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signalChildren } from './childCli';
import { memoIn, type Memo, runPool } from './pool';
import { ProgressBoard } from './progress';

export interface GridJob<R> {
  /** Folder name under the work folder. */
  readonly id: string;
  /** How the progress line names it. */
  readonly label: string;
  /** Everything that decides its result: a finished phase is kept only for the same settings. */
  readonly settings: unknown;
  readonly run: (memo: Memo, progress: (text: string, phase: string) => void, dir: string) => Promise<R>;
}

/** A job that did not finish: failed (with the reason) or stopped by Ctrl-C. */
export interface JobFailure {
  readonly failed: string;
}

/** Thrown by a job that was stopped (Ctrl-C, SIGTERM): not a failure, not kept. */
export class JobStopped extends Error {}

/** One call of a grid command that trained or analysed something (a call that only kept results is not one). */
export interface GridCall {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: number;
  readonly jobs: number;
  /** Jobs it ran a phase of. */
  readonly ran: number;
}

export interface GridOutcome<R> {
  readonly results: ReadonlyMap<string, R | JobFailure>;
  readonly interrupted: boolean;
  /** Every call that made these results, oldest first (kept in `<work>/calls.json`), this one included. */
  readonly calls: readonly GridCall[];
}

/** The wall time of a grid: the calls that did work, in all. */
export const wallSecondsOf = (calls: readonly GridCall[]) => calls.reduce((t, c) => t + c.wallSeconds, 0);

/** The wall time of a grid in words, with each call's span. */
export function wallTimeText(calls: readonly GridCall[]): string {
  if (!calls.length) return 'Wall time not recorded (every result was kept from before calls were logged)';
  const span = (c: GridCall) => `--jobs ${c.jobs}, ${c.startedAt} to ${c.finishedAt}`;
  const total = `Wall time ${(wallSecondsOf(calls) / 60).toFixed(1)} min`;
  return calls.length === 1
    ? `${total} (one call, ${span(calls[0]!)})`
    : `${total} over ${calls.length} calls that trained or analysed (${calls.map((c) => `${span(c)}: ${(c.wallSeconds / 60).toFixed(1)} min`).join('; ')})`;
}

async function recordCall(work: string, call: GridCall | null): Promise<GridCall[]> {
  const path = join(work, 'calls.json');
  const calls = await readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as GridCall[],
    () => [] as GridCall[],
  );
  if (!call) return calls;
  calls.push(call);
  await mkdir(work, { recursive: true });
  await writeFile(path, JSON.stringify(calls, null, 1));
  return calls;
}

export const isFailure = <R>(r: R | JobFailure | undefined): r is JobFailure =>
  typeof r === 'object' && r !== null && 'failed' in r;

export async function runGrid<R>(
  jobs: readonly GridJob<R>[],
  options: { work: string; concurrency: number; board?: ProgressBoard },
): Promise<GridOutcome<R>> {
  const board = options.board ?? new ProgressBoard();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let ranJobs = 0;
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  const onTerm = () => {
    interrupted = true;
    signalChildren('SIGTERM');
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const results = new Map<string, R | JobFailure>();
  const width = String(jobs.length).length;
  try {
    await runPool(
      jobs,
      options.concurrency,
      async (job, index) => {
        const tag = `[${String(index + 1).padStart(width)}/${jobs.length}] ${job.label}`;
        const jobStarted = performance.now();
        const progress = (text: string, phase: string) => board.update(job.id, `${tag}: ${text}`, phase);
        progress('starting', 'start');
        const dir = join(options.work, job.id);
        const kept = memoIn(dir, job.settings);
        let ran = false;
        const memo: Memo = (phase, fn, settings) =>
          kept(
            phase,
            () => {
              ran = true;
              return fn();
            },
            settings,
          );
        try {
          const result = await job.run(memo, progress, dir).finally(() => {
            if (ran) ranJobs += 1;
          });
          results.set(job.id, result);
          const seconds = (performance.now() - jobStarted) / 1000;
          progress(ran ? `done in ${seconds.toFixed(0)} s` : 'done (kept from an earlier run)', 'done');
        } catch (error) {
          const failed =
            error instanceof JobStopped ? 'stopped' : error instanceof Error ? error.message : String(error);
          results.set(job.id, { failed });
          progress(failed === 'stopped' ? 'stopped' : `failed: ${failed}`, 'failed');
        }
      },
      () => interrupted,
    );
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  const call: GridCall = {
    startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - started) / 1000,
    jobs: options.concurrency,
    ran: ranJobs,
  };
  return { results, interrupted, calls: await recordCall(options.work, ranJobs ? call : null) };
}

/** A training's progress as one line's text. */
export const trainingText = (p: {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  loss: number | null;
  lastTestAccuracy: number | null;
}): string =>
  `epoch ${p.epoch}/${p.epochs || '?'} step ${p.step}/${p.stepsPerEpoch}` +
  (p.loss === null ? '' : `, loss ${p.loss.toFixed(3)}`) +
  (p.lastTestAccuracy === null ? '' : `, last test top-1 ${(p.lastTestAccuracy * 100).toFixed(1)}%`);
