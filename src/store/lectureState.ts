/**
 * What Space does in lecture mode, decided from the Distillation panel's runs (pure, unit-tested): lecture mode
 * shows a KD run beside its from-scratch baseline, trained one after the other with the panel's settings.
 */
import { baselineFor, type DistillRunRecord } from './distillState';
import { hasLiveRun } from './trainingState';

/** The method lecture mode runs beside its baseline. */
export const LECTURE_METHOD = 'kd';

export type LectureStep =
  /** Pause the running distillation. */
  | 'pause'
  /** Resume the paused one. */
  | 'resume'
  /** A run is starting, pausing or stopping: let it. */
  | 'wait'
  /** The newest KD run has finished and has no baseline yet: train it. */
  | 'baseline'
  /** Start a new KD run. */
  | 'start';

/** The newest run of the lecture's method, if any. */
export function lectureRun(runs: readonly DistillRunRecord[]): DistillRunRecord | null {
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.method === LECTURE_METHOD) return runs[i]!;
  return null;
}

/** Whether the newest KD run has finished without a baseline of the same settings. */
export function needsBaseline(runs: readonly DistillRunRecord[]): boolean {
  const run = lectureRun(runs);
  return run?.status === 'done' && !baselineFor(runs, run);
}

export function lectureStep(runs: readonly DistillRunRecord[]): LectureStep {
  // The engine holds the newest run only: it is the one that can still run (as distillState's liveRun).
  const last = runs[runs.length - 1];
  const live = last && hasLiveRun(last.status) ? last : null;
  if (live?.status === 'running') return 'pause';
  if (live?.status === 'paused') return 'resume';
  if (live) return 'wait';
  return needsBaseline(runs) ? 'baseline' : 'start';
}
