/**
 * History records from the runs the panels hold (pure, unit-tested): a distillation of the Distillation panel,
 * or a Teacher/Student panel training, which is the `ce` method without a teacher. Only a run that has ended
 * (done, stopped, failed, or halted by a non-finite loss) and took at least one step becomes a record.
 */
import type { DistillRunRecord } from '../distillState';
import { type EpochLog, type StepLog, TRAIN_ON_LABELS } from '../../worker/protocol';
import type { RunProgressView } from '../runProgress';
import type { RoleTraining } from '../trainingState';
import {
  defaultRunName,
  type HistoryEpoch,
  type HistoryRun,
  type HistoryStep,
  RUN_FORMAT,
  RUN_FORMAT_VERSION,
  type RunOutcome,
} from './runRecord';

/** What the record needs from outside the run: its id, the moment, the backend, the active dataset. */
export interface RecordContext {
  readonly id: string;
  readonly now: Date;
  readonly backend: string | null;
  /** The active dataset (a training record knows its dataset by name only). */
  readonly dataset: { readonly id: string; readonly name: string } | null;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export const historySteps = (steps: readonly StepLog[]): HistoryStep[] =>
  steps.map(({ epoch, step, stepsPerEpoch, learningRate, terms }) => ({
    epoch,
    step,
    stepsPerEpoch,
    learningRate,
    terms: Object.fromEntries(Object.entries(terms).map(([name, value]) => [name, finiteOrNull(value)])),
  }));

export const historyEpochs = (epochs: readonly EpochLog[]): HistoryEpoch[] =>
  epochs.map(({ epoch, trainLoss, trainAccuracy, testAccuracy, seconds, imagesPerSecond }) => ({
    epoch,
    trainLoss: finiteOrNull(trainLoss),
    trainAccuracy,
    testAccuracy,
    seconds,
    imagesPerSecond,
  }));

/**
 * How a run ended, for the history; null while it can still go on by itself (running, or paused by the user).
 * A non-finite loss pauses a run (it may go back to a checkpoint): for the history that is an end.
 */
export function outcomeOf(run: Pick<RunProgressView, 'status' | 'blowUp'>): RunOutcome | null {
  switch (run.status) {
    case 'done':
    case 'stopped':
    case 'failed':
      return run.status;
    case 'paused':
      return run.blowUp ? 'non-finite' : null;
    default:
      return null;
  }
}

/** What a run's record says about the run itself, whichever panel ran it. */
function progressPart(run: RunProgressView, outcome: RunOutcome) {
  return {
    outcome,
    message: run.blowUp?.message ?? null,
    msPerStep: run.msPerStep,
    steps: historySteps(run.steps),
    epochs: historyEpochs(run.epochs),
  };
}

/** The record of a distillation that has ended; null while it runs or is paused, or if it took no step. */
export function fromDistillRun(run: DistillRunRecord, context: RecordContext): HistoryRun | null {
  const outcome = outcomeOf(run);
  if (!outcome || run.steps.length === 0) return null;
  const teacher = run.setup?.teacher ?? null;
  const base = { panel: 'distillation' as const, method: run.method, config: run.config };
  return {
    format: RUN_FORMAT,
    version: RUN_FORMAT_VERSION,
    id: context.id,
    name: defaultRunName(base, context.now),
    createdAt: context.now.toISOString(),
    ...base,
    methodLabel: run.methodLabel,
    params: { ...run.params },
    labelledFraction: run.labelledFraction,
    teacher: teacher && {
      source: teacher.source,
      preset: teacher.preset,
      name: teacher.name,
      testAccuracy:
        teacher.testAccuracy !== null && Number.isFinite(teacher.testAccuracy) ? teacher.testAccuracy : null,
      datasetId: teacher.datasetId,
    },
    dataset: { id: run.datasetId, name: run.datasetName },
    backend: context.backend,
    ood: null,
    ...progressPart(run, outcome),
  };
}

/** A panel training as the history sees it. */
export type TrainingView = RunProgressView & Pick<RoleTraining, 'config' | 'datasetName'>;

/** The record of a Teacher/Student panel training that has ended: on labels alone, no teacher. */
export function fromTraining(training: TrainingView, context: RecordContext): HistoryRun | null {
  const outcome = outcomeOf(training);
  const { config } = training;
  if (!outcome || !config || training.steps.length === 0) return null;
  const base = { panel: config.role, method: TRAIN_ON_LABELS.method, config };
  const datasetName = training.datasetName ?? context.dataset?.name ?? 'unknown';
  return {
    format: RUN_FORMAT,
    version: RUN_FORMAT_VERSION,
    id: context.id,
    name: defaultRunName(base, context.now),
    createdAt: context.now.toISOString(),
    ...base,
    methodLabel: `${config.role} training (cross-entropy)`,
    params: { ...TRAIN_ON_LABELS.params },
    labelledFraction: TRAIN_ON_LABELS.labelledFraction,
    teacher: null,
    dataset: {
      id: context.dataset && context.dataset.name === datasetName ? context.dataset.id : null,
      name: datasetName,
    },
    backend: context.backend,
    ood: null,
    ...progressPart(training, outcome),
  };
}

/**
 * Whether `newer` is `older` again, or older carried on: a run an earlier visit kept, restored from its
 * checkpoint (and perhaps resumed) in this one. Known by its completed epochs, wall-clock seconds included,
 * which a checkpoint keeps exactly and no second run repeats; a run with no completed epoch is never matched.
 */
export function continues(newer: HistoryRun, older: HistoryRun): boolean {
  return (
    older.epochs.length > 0 &&
    newer.epochs.length >= older.epochs.length &&
    newer.method === older.method &&
    newer.config.model === older.config.model &&
    newer.config.seed === older.config.seed &&
    older.epochs.every((e, i) => {
      const n = newer.epochs[i]!;
      return n.seconds === e.seconds && n.testAccuracy === e.testAccuracy && n.trainLoss === e.trainLoss;
    })
  );
}
