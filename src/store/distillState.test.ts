import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG } from '../engine/training/hyperparams';
import type {
  DistillMethodInfo,
  RunProgress,
  EpochLog,
  RunPosition,
  StepLog,
  TrainConfig,
} from '../worker/protocol';
import {
  accuracyOverlay,
  applyDistillEnd,
  applyDistillProgress,
  applyDistillSetup,
  baselineFor,
  beginDistillRun,
  type DistillState,
  dropRun,
  editParam,
  finalTestAccuracy,
  initialDistillState,
  liveRun,
  type NewRun,
  sameSettings,
  setRunStatus,
  withMethods,
} from './distillState';

const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, role: 'student', model: 'cnn-small', epochs: 3 };

const newRun = (method: string, overrides: Partial<NewRun> = {}): NewRun => ({
  method,
  methodLabel: method.toUpperCase(),
  params: method === 'kd' ? { temperature: 4, alpha: 0.9 } : {},
  labelledFraction: 1,
  config,
  datasetId: 'embedded',
  datasetName: 'Embedded default',
  ...overrides,
});

const position = (completedEpochs: number, stepInEpoch: number): RunPosition => ({
  completedEpochs,
  stepInEpoch,
  stepsPerEpoch: 157,
  epochs: 3,
  batchSize: 64,
  trainCount: 10_000,
});

const stepLog = (step: number): StepLog => ({
  kind: 'step',
  epoch: 1,
  step,
  stepsPerEpoch: 157,
  learningRate: 0.05,
  terms: { ce: 2, soft: 1, weightDecay: 0.01, total: 1.2 },
});

const epochLog = (epoch: number, testAccuracy: number): EpochLog => ({
  kind: 'epoch',
  epoch,
  trainLoss: 2,
  trainAccuracy: 0.3,
  testAccuracy,
  seconds: 30,
  imagesPerSecond: 333,
  numTensors: 40,
});

const progress = (
  steps: StepLog[],
  at: RunPosition,
  epochs: EpochLog[] = [],
  msPerStep: number | null = 150,
) =>
  ({
    steps,
    epochs,
    position: at,
    imagesPerSecond: 400,
    etaSeconds: 60,
    msPerStep,
  }) satisfies RunProgress;

/** Starts runs one after the other, each ending as `end` says. */
function withRuns(...runs: [NewRun, 'done' | 'stopped' | 'paused' | null, EpochLog[]][]): DistillState {
  let state = initialDistillState();
  for (const [run, end, epochs] of runs) {
    const begun = beginDistillRun(state, run);
    state = applyDistillProgress(
      begun.state,
      begun.id,
      progress([stepLog(1)], position(epochs.length, 1), epochs),
    );
    if (end) state = applyDistillEnd(state, begun.id, { kind: end });
  }
  return state;
}

describe('the Distillation panel’s state', () => {
  it('takes the methods from the Worker and keeps typed parameters per method', () => {
    const methods = [{ id: 'ce' }, { id: 'kd' }] as DistillMethodInfo[];
    let state = withMethods(initialDistillState(), methods);
    expect(state.methodId).toBe('kd');
    expect(withMethods({ ...state, methodId: 'gone' }, methods).methodId).toBe('ce');
    state = editParam(state, 'kd', 'temperature', '0');
    state = editParam(state, 'kd', 'alpha', '0.5');
    state = editParam(state, 'akd', 'weight', '3');
    expect(state.paramTexts).toEqual({ kd: { temperature: '0', alpha: '0.5' }, akd: { weight: '3' } });
  });

  it('starts a run shown at once; set-up, progress and its end update only that run', () => {
    const { state: started, id } = beginDistillRun(initialDistillState(), newRun('kd'));
    expect(id).toBe(1);
    expect(started.shownRunId).toBe(1);
    expect(liveRun(started)).toMatchObject({ id: 1, status: 'starting', setup: null, steps: [] });
    let state = applyDistillSetup(started, id, {
      seconds: 20.5,
      labelledCount: 10_000,
      trainCount: 10_000,
      teacher: null,
      teacherAhead: false,
    });
    state = applyDistillProgress(state, id, progress([stepLog(1), stepLog(2)], position(0, 2)));
    state = applyDistillProgress(state, id, progress([stepLog(3)], position(1, 0), [epochLog(1, 0.4)], null));
    const run = state.runs[0]!;
    expect(run).toMatchObject({ status: 'running', msPerStep: 150, position: position(1, 0) });
    expect(run.setup?.seconds).toBe(20.5);
    expect(run.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(finalTestAccuracy(run)).toBe(0.4);
    state = applyDistillEnd(state, id, { kind: 'done' });
    expect(state.runs[0]).toMatchObject({ status: 'done', imagesPerSecond: null, etaSeconds: null });
    expect(liveRun(state)).toBeNull();
  });

  it('keeps earlier runs when a new one starts; a paused one ends there as stopped', () => {
    const state = withRuns([newRun('kd'), 'done', []], [newRun('akd'), 'paused', []]);
    expect(liveRun(state)?.id).toBe(2);
    const { state: next, id } = beginDistillRun(
      state,
      newRun('kd', { params: { temperature: 8, alpha: 0.9 } }),
    );
    expect(id).toBe(3);
    expect(next.runs.map((r) => [r.id, r.method, r.status])).toEqual([
      [1, 'kd', 'done'],
      [2, 'akd', 'stopped'],
      [3, 'kd', 'starting'],
    ]);
    expect(next.runs[0]!.params).toEqual({ temperature: 4, alpha: 0.9 });
  });

  it('keeps a pause request through progress in flight; a non-finite loss pauses the run with its message', () => {
    const { state: started, id } = beginDistillRun(initialDistillState(), newRun('kd'));
    const pausing = setRunStatus(
      applyDistillProgress(started, id, progress([], position(0, 1))),
      id,
      'pausing',
    );
    expect(applyDistillProgress(pausing, id, progress([stepLog(2)], position(0, 2))).runs[0]!.status).toBe(
      'pausing',
    );
    const blown = applyDistillEnd(pausing, id, {
      kind: 'nan',
      epoch: 1,
      step: 2,
      term: 'soft',
      message: 'not finite at step 2',
      resumable: true,
    });
    expect(blown.runs[0]).toMatchObject({
      status: 'paused',
      blowUp: { message: 'not finite at step 2', resumable: true },
    });
  });

  it('forgets a run the engine refused before it began', () => {
    const state = withRuns([newRun('kd'), 'done', []]);
    const { state: started, id } = beginDistillRun(state, newRun('akd'));
    const dropped = dropRun(started, id);
    expect(dropped.runs.map((r) => r.id)).toEqual([1]);
    expect(dropped.shownRunId).toBe(1);
  });

  it('finds the baseline: the newest ce run with the same student settings, labels and dataset', () => {
    const state = withRuns(
      [newRun('ce'), 'done', [epochLog(1, 0.3)]],
      [newRun('ce', { labelledFraction: 0.2 }), 'done', []],
      [newRun('kd'), 'done', [epochLog(1, 0.35)]],
      [newRun('ce', { config: { ...config, seed: 2 } }), 'done', []],
      [newRun('akd', { labelledFraction: 0.2 }), 'stopped', []],
    );
    const [ce, ce20, kd, ceSeed2, akd20] = state.runs;
    expect(baselineFor(state.runs, kd!)).toBe(ce);
    expect(baselineFor(state.runs, akd20!)).toBe(ce20);
    expect(baselineFor(state.runs, ce!)).toBe(ce);
    expect(baselineFor(state.runs, { ...kd!, datasetId: 'full' })).toBeNull();
    expect(sameSettings(ce!, ceSeed2!)).toBe(false);
    // The read-back interval and the role are not settings that make runs differ.
    expect(sameSettings(ce!, { ...kd!, config: { ...config, logEvery: 1 } })).toBe(true);
  });

  it('overlays every run’s test accuracy per epoch; runs without epochs are left out', () => {
    const state = withRuns(
      [newRun('ce'), 'done', [epochLog(1, 0.3), epochLog(2, 0.4)]],
      [newRun('kd'), 'done', [epochLog(1, 0.35)]],
      [newRun('akd'), null, []],
    );
    const { series, points } = accuracyOverlay(state.runs);
    expect(series.map((r) => r.id)).toEqual([1, 2]);
    expect(points).toEqual([
      { epoch: 1, run1: 30, run2: 35 },
      { epoch: 2, run1: 40 },
    ]);
  });
});
