import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG } from '../engine/config/training';
import type { TrainConfig } from '../worker/protocol';
import { beginDistillRun, type DistillState, initialDistillState, setRunStatus } from './distillState';
import { lectureRun, lectureStep, needsBaseline } from './lectureState';
import type { RunStatus } from './trainingState';

const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, role: 'student', model: 'cnn-small', epochs: 3 };

/** Runs started one after the other, each ending with the given status. */
function runs(...started: [method: string, status: RunStatus, overrides?: Partial<TrainConfig>][]) {
  let state: DistillState = initialDistillState();
  for (const [method, status, overrides] of started) {
    const begun = beginDistillRun(state, {
      method,
      methodLabel: method,
      params: {},
      labelledFraction: 1,
      config: { ...config, ...overrides },
      datasetId: 'embedded',
      datasetName: 'Embedded default',
    });
    state = setRunStatus(begun.state, begun.id, status);
  }
  return state.runs;
}

describe('lecture mode: what Space does', () => {
  it('starts KD, pauses and resumes it, waits while it changes state', () => {
    expect(lectureStep([])).toBe('start');
    expect(lectureStep(runs(['kd', 'running']))).toBe('pause');
    expect(lectureStep(runs(['kd', 'paused']))).toBe('resume');
    for (const status of ['starting', 'pausing', 'stopping'] as const)
      expect(lectureStep(runs(['kd', status]))).toBe('wait');
    // Any live run is paused or resumed, a baseline too.
    expect(lectureStep(runs(['kd', 'done'], ['ce', 'running']))).toBe('pause');
  });

  it('trains the baseline of a finished KD run, then starts over', () => {
    expect(lectureStep(runs(['kd', 'done']))).toBe('baseline');
    expect(needsBaseline(runs(['kd', 'done']))).toBe(true);
    expect(lectureStep(runs(['kd', 'done'], ['ce', 'done']))).toBe('start');
    // A baseline with other settings is not this run's.
    expect(lectureStep(runs(['kd', 'done'], ['ce', 'done', { seed: 2 }]))).toBe('baseline');
    // A stopped KD run needs no baseline: Space starts a new one.
    expect(lectureStep(runs(['kd', 'stopped']))).toBe('start');
    // The newest KD run counts, not other methods.
    const mixed = runs(['kd', 'done'], ['ce', 'done'], ['akd', 'done']);
    expect(lectureRun(mixed)?.id).toBe(1);
    expect(lectureStep(mixed)).toBe('start');
  });
});
