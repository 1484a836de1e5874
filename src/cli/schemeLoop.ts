/**
 * Drives a scheme run (src/engine/schemes/) from the CLI as runLoop.ts drives one run: one JSON line per logged
 * step with every model's named terms under its name (a staged scheme's step carries its stage's model), one
 * per epoch with each model's accuracies, one per finished stage, `--limit-steps` (counted over the whole
 * scheme in this call), and Ctrl-C / SIGTERM within one step (checkpoints written, exit 130).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../engine/data/cifar10';
import type { RunEnd } from '../engine/run/runTypes';
import type { MultiRun } from '../engine/schemes/multiRun';
import type { StagedRun } from '../engine/schemes/stagedRun';
import { onInterrupt } from './runLoop';
import { jsonLine } from './trainingOptions';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface SchemeLoopResult {
  /** 0 done (or --limit-steps reached), 1 non-finite loss, 130 stopped by a signal. */
  readonly code: number;
  /** Whether every stage or epoch ran to its end. */
  readonly finished: boolean;
}

/** Runs a scheme to its end (or the limit), printing JSON lines; the caller prints the final summary. */
export async function driveScheme(
  run: MultiRun | StagedRun,
  options: { limitSteps: number | null; out: string },
): Promise<SchemeLoopResult> {
  let interrupted: NodeJS.Signals | null = null;
  let done = 0;
  let limited = false;
  const count = () => {
    done += 1;
    if (options.limitSteps !== null && done >= options.limitSteps && !limited) {
      limited = true;
      run.requestPause();
    }
  };
  const removeHandlers = onInterrupt((signal) => {
    interrupted = signal;
    run.stop();
  });
  let end: RunEnd;
  try {
    end =
      'members' in run
        ? await run.run(
            {
              step: (log) => {
                jsonLine(log);
                count();
              },
              epoch: (log) => jsonLine(log),
              boundary: () => undefined,
            },
            nextTurn,
          )
        : await run.run(
            {
              stageStart: (stage, index) => jsonLine({ kind: 'stage', stage, index, event: 'start' }),
              step: (stage, log) => {
                const { terms, learningRate, ...rest } = log;
                jsonLine({ ...rest, stage, models: { [stage]: { learningRate, terms } } });
                count();
              },
              epoch: (stage, log) => {
                const { trainLoss, trainAccuracy, testAccuracy, ...rest } = log;
                jsonLine({ ...rest, stage, models: { [stage]: { trainLoss, trainAccuracy, testAccuracy } } });
              },
              boundary: () => undefined,
              stageEnd: (stage, testAccuracy) =>
                jsonLine({ kind: 'stage', stage, event: 'done', testAccuracy }),
            },
            nextTurn,
          );
  } finally {
    removeHandlers();
  }
  if (interrupted) {
    jsonLine({ kind: 'stopped', signal: interrupted, checkpoint: options.out });
    return { code: 130, finished: false };
  }
  if (end.kind === 'nan') {
    jsonLine({ ...end, kind: 'error', checkpoint: options.out });
    return { code: 1, finished: false };
  }
  return { code: 0, finished: end.kind === 'done' };
}

/** The test accuracy of every model now, and the memory count (no tensor left behind by the run). */
export async function finalAccuracies(run: MultiRun | StagedRun, dataset: Dataset) {
  return { testAccuracy: await run.evaluate(dataset.test), numTensors: tf.memory().numTensors };
}
