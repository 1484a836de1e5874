import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG } from '../engine/training/hyperparams';
import type { EpochLog, RunProgress, RunPosition, StepLog, TrainConfig } from '../worker/protocol';
import {
  applyProgress,
  applyRestored,
  applyRewind,
  applyRunEnd,
  beginRun,
  hasLiveRun,
  initialRoleTraining,
  isActive,
} from './trainingState';

const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, role: 'student', model: 'cnn-small', batchSize: 512 };
const position = (completedEpochs: number, stepInEpoch: number): RunPosition => ({
  completedEpochs,
  stepInEpoch,
  stepsPerEpoch: 20,
  epochs: 10,
  batchSize: 512,
  trainCount: 10_000,
});
const stepLog = (step: number): StepLog => ({
  kind: 'step',
  epoch: 1,
  step,
  stepsPerEpoch: 20,
  learningRate: 0.05,
  terms: { ce: 2, weightDecay: 0.01, total: 2.01 },
});
const epochLog: EpochLog = {
  kind: 'epoch',
  epoch: 1,
  trainLoss: 2,
  trainAccuracy: 0.2,
  testAccuracy: 0.25,
  seconds: 30,
  imagesPerSecond: 333,
  numTensors: 40,
};
const update = (steps: StepLog[], at: RunPosition, epochs: EpochLog[] = []): RunProgress => ({
  steps,
  epochs,
  position: at,
  imagesPerSecond: 400,
  etaSeconds: 120,
  msPerStep: null,
});

describe('a role’s training state', () => {
  it('starts a run with fresh curves, and runs on progress updates that append', () => {
    const old = { ...initialRoleTraining('cnn-small'), steps: [stepLog(1)], savedRun: null };
    let state = beginRun(old, config, 'Embedded default');
    expect(state).toMatchObject({ status: 'starting', config, datasetName: 'Embedded default', steps: [] });
    state = applyProgress(state, update([stepLog(1), stepLog(2)], position(0, 2)));
    state = applyProgress(state, update([stepLog(3)], position(0, 3)));
    state = applyProgress(state, update([], position(1, 0), [epochLog]));
    expect(state.status).toBe('running');
    expect(state.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(state.epochs).toEqual([epochLog]);
    expect(state).toMatchObject({ position: position(1, 0), imagesPerSecond: 400, etaSeconds: 120 });
  });

  it('keeps a pause request through the progress still in flight', () => {
    const pausing = { ...initialRoleTraining(), status: 'pausing' as const };
    expect(applyProgress(pausing, update([stepLog(4)], position(0, 4))).status).toBe('pausing');
  });

  it('settles on the run’s end; a non-finite loss pauses with the message', () => {
    const running = applyProgress(beginRun(initialRoleTraining(), config, 'x'), update([], position(0, 1)));
    expect(applyRunEnd(running, { kind: 'done' })).toMatchObject({
      status: 'done',
      imagesPerSecond: null,
      etaSeconds: null,
    });
    expect(applyRunEnd(running, { kind: 'stopped' }).status).toBe('stopped');
    const blown = applyRunEnd(running, {
      kind: 'nan',
      epoch: 1,
      step: 7,
      term: 'ce',
      message: 'the loss is not finite at epoch 1, step 7',
      resumable: false,
    });
    expect(blown).toMatchObject({
      status: 'paused',
      blowUp: { message: 'the loss is not finite at epoch 1, step 7', resumable: false },
    });
  });

  it('restores a saved run: its settings into the form, its curves, paused or done', () => {
    const restored = {
      lane: 'teacher' as const,
      method: 'ce',
      params: {},
      labelledFraction: 1,
      config,
      steps: [stepLog(1)],
      epochs: [epochLog],
      position: position(1, 0),
      finished: false,
    };
    const state = applyRestored(
      { ...initialRoleTraining('cnn-small'), savedRun: null },
      restored,
      'Embedded default',
    );
    expect(state).toMatchObject({
      status: 'paused',
      config,
      steps: [stepLog(1)],
      epochs: [epochLog],
      position: position(1, 0),
    });
    expect(state.form.batchSize).toBe('512');
    expect(applyRestored(initialRoleTraining(), { ...restored, finished: true }, 'x').status).toBe('done');
    // A rewind replaces the curves and keeps the status.
    const running = { ...state, status: 'running' as const, steps: [stepLog(1), stepLog(2)] };
    expect(applyRewind(running, { steps: [], epochs: [], position: position(0, 0) })).toMatchObject({
      status: 'running',
      steps: [],
    });
  });

  it('knows which statuses hold a run', () => {
    expect(['starting', 'running', 'pausing', 'stopping'].every((s) => isActive(s as never))).toBe(true);
    expect(isActive('paused')).toBe(false);
    expect(hasLiveRun('paused')).toBe(true);
    expect(hasLiveRun('stopped')).toBe(false);
  });
});
