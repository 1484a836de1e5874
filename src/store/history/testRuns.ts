/**
 * Runs for the history's unit tests, made by the panels' own transitions (beginDistillRun, applyDistillProgress,
 * applyDistillEnd, beginRun, applyProgress, applyRunEnd) from logs shaped as the engine sends them.
 */
import { DEFAULT_TRAIN_CONFIG } from '../../engine/config/training';
import type { EpochLog, RunEnd, RunPosition, StepLog, TrainConfig } from '../../worker/protocol';
import {
  applyDistillEnd,
  applyDistillProgress,
  applyDistillSetup,
  beginDistillRun,
  type DistillRunRecord,
  initialDistillState,
} from '../distillState';
import {
  applyProgress,
  applyRunEnd,
  beginRun,
  initialRoleTraining,
  type RoleTraining,
} from '../trainingState';
import { fromDistillRun, type RecordContext } from './fromRuns';
import type { HistoryRun } from './runRecord';

export const testConfig = (patch: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  role: 'student',
  model: 'cnn-small',
  epochs: 2,
  batchSize: 64,
  ...patch,
});

/** `count` steps of each of `epochs` epochs, the loss falling; term `total` is the sum of the others. */
export function stepLogs(
  epochs: number,
  count: number,
  terms: readonly string[] = ['ce', 'soft'],
): StepLog[] {
  const logs: StepLog[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++)
    for (let step = 1; step <= count; step++) {
      const values = Object.fromEntries(terms.map((t, i) => [t, (i + 1) / (epoch * count + step)]));
      const total = Object.values(values).reduce((a, b) => a + b, 0);
      logs.push({
        kind: 'step',
        epoch,
        step,
        stepsPerEpoch: count,
        learningRate: 0.05,
        terms: { ...values, total },
      });
    }
  return logs;
}

export const epochLog = (epoch: number, testAccuracy: number): EpochLog => ({
  kind: 'epoch',
  epoch,
  trainLoss: 1.5 / epoch,
  trainAccuracy: testAccuracy + 0.05,
  testAccuracy,
  seconds: 3.2,
  imagesPerSecond: 160,
  numTensors: 42,
});

const position = (config: TrainConfig, completedEpochs: number): RunPosition => ({
  completedEpochs,
  stepInEpoch: 0,
  stepsPerEpoch: 4,
  epochs: config.epochs,
  batchSize: config.batchSize,
  trainCount: 256,
});

/** A KD distillation through the Distillation panel's transitions, ended by `end`. */
export function distillRun(
  end: RunEnd,
  logs: { steps: StepLog[]; epochs: EpochLog[] } = {
    steps: stepLogs(2, 4),
    epochs: [epochLog(1, 0.3), epochLog(2, 0.42)],
  },
  config = testConfig(),
): DistillRunRecord {
  const begun = beginDistillRun(initialDistillState(), {
    method: 'kd',
    methodLabel: 'KD (Hinton et al.)',
    params: { temperature: 4, alpha: 0.9 },
    labelledFraction: 0.5,
    config,
    datasetId: 'embedded',
    datasetName: 'Embedded default',
  });
  let state = applyDistillSetup(begun.state, begun.id, {
    seconds: 0.4,
    labelledCount: 5000,
    trainCount: 10000,
    teacherAhead: false,
    teacher: {
      source: 'shipped',
      preset: 'vgg-fast',
      name: 'teacher/model.json',
      testAccuracy: 0.86,
      datasetId: 'embedded',
      accuracySource: 'stored',
    },
  });
  state = applyDistillProgress(state, begun.id, {
    steps: logs.steps,
    epochs: logs.epochs,
    position: position(config, logs.epochs.length),
    imagesPerSecond: 500,
    etaSeconds: 2,
    msPerStep: 128,
  });
  return applyDistillEnd(state, begun.id, end).runs[0]!;
}

/** A Student panel training through its transitions, ended by `end`. */
export function studentTraining(end: RunEnd, steps = stepLogs(1, 3, ['ce', 'weightDecay'])): RoleTraining {
  let state = beginRun(initialRoleTraining('cnn-small'), testConfig({ epochs: 1 }), 'Embedded default');
  state = applyProgress(state, {
    steps,
    epochs: [epochLog(1, 0.25)],
    position: position(testConfig({ epochs: 1 }), 1),
    imagesPerSecond: 400,
    etaSeconds: null,
    msPerStep: 96,
  });
  return applyRunEnd(state, end);
}

export const testContext = (id = 'run-1', backend: string | null = 'wasm'): RecordContext => ({
  id,
  now: new Date('2026-12-02T07:30:00.000Z'),
  backend,
  dataset: { id: 'embedded', name: 'Embedded default' },
});

/** A kept history run: a done KD distillation. */
export const historyRun = (id = 'run-1'): HistoryRun =>
  fromDistillRun(distillRun({ kind: 'done' }), testContext(id))!;
