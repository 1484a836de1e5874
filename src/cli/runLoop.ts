/**
 * The CLI's one run loop, for `train` and `distill` alike: a LabRun (src/engine/run/labRun.ts) driven to its
 * end with one JSON line per logged step, epoch and outcome, checkpoints in the run's folder (every epoch end,
 * every 30 s of training, and on a stop), `--limit-steps`, and Ctrl-C / SIGTERM handled within one step: the
 * current step's checkpoint is written, a "stopped" line printed, exit 130; a second Ctrl-C quits at once.
 * See docs/design.md §9 (runs).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../engine/data/cifar10';
import { flopsPerImage } from '../engine/models/presets';
import type { LabRun } from '../engine/run/labRun';
import type { RunPosition } from '../engine/run/runTypes';
import { jsonLine } from './trainingOptions';
import { UsageError } from './usage';

/** Steps done since the start of the run, from a position. */
const stepsDone = (p: RunPosition) => p.completedEpochs * p.stepsPerEpoch + p.stepInEpoch;

/** Lets Node run signal handlers between steps (a step is synchronous on wasm and cpu). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One Ctrl-C reaches this process several times: from the terminal (the whole process group: npm, sh, node)
 * and relayed again by npm. Signals this close to the first are that same Ctrl-C; a later one is a second.
 */
export const SAME_INTERRUPT_MS = 1000;

/**
 * Calls `stop` on the first SIGINT or SIGTERM and exits 130 at once on a second one; returns the function that
 * removes the handlers.
 */
export function onInterrupt(stop: (signal: NodeJS.Signals) => void, now = () => Date.now()): () => void {
  let first: number | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (first === null) {
      first = now();
      process.stderr.write(
        `${signal}: stopping after this step and saving a checkpoint (press Ctrl-C again to quit at once)\n`,
      );
      stop(signal);
    } else if (now() - first >= SAME_INTERRUPT_MS) {
      process.stderr.write(`${signal} again: quitting without waiting for the checkpoint\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** A flag's whole number >= 1; anything else is a usage error naming the flag. */
export function wholeNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 1))
    throw new UsageError(`${flag} must be a whole number >= 1; got ${text}`);
  return value;
}

/** `--limit-steps N` as a number; null when not given. */
export const limitStepsOf = (text: string | undefined): number | null =>
  text === undefined ? null : wholeNumber(text, '--limit-steps');

/** The first JSON line of a run: where it trains, what it trains, where it resumes from, where it saves. */
export function startLine(
  run: LabRun,
  where: {
    readonly backend: { readonly backend: string; readonly adapter?: string | null };
    readonly set: string;
    readonly dataset: Dataset;
    readonly out: string;
  },
  extra: Readonly<Record<string, unknown>> = {},
): void {
  const { backend, set, dataset, out } = where;
  jsonLine({
    kind: 'start',
    backend: backend.backend,
    adapter: backend.adapter,
    set,
    trainSize: dataset.train.count,
    testSize: dataset.test.count,
    ...extra,
    parameters: run.model.countParams(),
    flopsPerImage: flopsPerImage(run.model),
    resumedFromEpoch: run.state.epoch,
    resumedFromStep: run.state.stepInEpoch,
    out,
    config: run.config,
  });
}

export interface RunLoopOptions {
  /** Where the checkpoints go (named in the output lines). */
  readonly out: string;
  /** End after this many steps of this call (with a checkpoint and the test accuracy there); null: no limit. */
  readonly limitSteps: number | null;
}

/** Drives `run` to its end, printing JSON lines; returns the exit code (0 done, 1 non-finite, 130 stopped). */
export async function runToEnd(run: LabRun, dataset: Dataset, options: RunLoopOptions): Promise<number> {
  const { out, limitSteps } = options;
  let interrupted: NodeJS.Signals | null = null;
  let limited = false;
  const start = stepsDone(run.position());
  const removeHandlers = onInterrupt((signal) => {
    interrupted = signal;
    run.stop();
  });
  let end;
  try {
    end = await run.run(
      {
        step: jsonLine,
        epoch: jsonLine,
        boundary: (position) => {
          if (limitSteps !== null && !limited && stepsDone(position) - start >= limitSteps) {
            limited = true;
            run.requestPause();
          }
        },
      },
      nextTurn,
    );
  } finally {
    removeHandlers();
  }
  const { epoch, stepInEpoch } = run.state;
  const position = { epoch, stepInEpoch };
  const timing = { msPerStep: run.msPerStep };
  if (interrupted) {
    jsonLine({ kind: 'stopped', signal: interrupted, ...position, checkpoint: out, ...timing });
    return 130;
  }
  if (end.kind === 'nan') {
    jsonLine({ ...end, kind: 'error', checkpoint: out });
    return 1;
  }
  if (end.kind === 'paused' && limited) {
    // --limit-steps: a checkpoint where it stopped (written by the pause), and the test accuracy there.
    const { accuracy } = await run.evaluate(dataset.test);
    jsonLine({
      kind: 'done',
      ...position,
      limitSteps,
      testAccuracy: accuracy,
      checkpoint: out,
      ...timing,
      numTensors: tf.memory().numTensors,
    });
    return 0;
  }
  jsonLine({
    kind: 'done',
    epochs: epoch,
    testAccuracy: run.state.epochs.at(-1)?.testAccuracy ?? null,
    checkpoint: out,
    ...timing,
    numTensors: tf.memory().numTensors,
  });
  return 0;
}
