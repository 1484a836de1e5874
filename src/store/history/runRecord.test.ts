import { describe, expect, it } from 'vitest';
import type { RunEnd } from '../../worker/protocol';
import { continues, fromDistillRun, fromTraining } from './fromRuns';
import { checkRun, finalAccuracy, historyRunSchema } from './runRecord';
import { distillRun, epochLog, historyRun, stepLogs, studentTraining, testContext } from './testRuns';

const nan: RunEnd = {
  kind: 'nan',
  epoch: 1,
  step: 3,
  term: 'soft',
  message: 'The loss term soft became NaN at epoch 1, step 3.',
  resumable: false,
};

describe('history records from the panels’ runs', () => {
  it('a done distillation keeps its settings, teacher, curves, timing and backend', () => {
    const run = distillRun({ kind: 'done' });
    const record = fromDistillRun(run, testContext('abc', 'webgpu'))!;
    expect(historyRunSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      id: 'abc',
      panel: 'distillation',
      method: 'kd',
      params: { temperature: 4, alpha: 0.9 },
      labelledFraction: 0.5,
      config: run.config,
      teacher: { source: 'shipped', preset: 'vgg-fast', testAccuracy: 0.86, datasetId: 'embedded' },
      dataset: { id: 'embedded', name: 'Embedded default' },
      backend: 'webgpu',
      outcome: 'done',
      message: null,
      msPerStep: 128,
      createdAt: '2026-12-02T07:30:00.000Z',
      ood: null,
    });
    expect(record.steps).toHaveLength(run.steps.length);
    expect(record.steps[5]!.terms).toEqual(run.steps[5]!.terms);
    expect(record.epochs.map((e) => e.testAccuracy)).toEqual([0.3, 0.42]);
    expect(finalAccuracy(record)).toBe(0.42);
    expect(record.name).toBe('kd, cnn-small, seed 1 (2026-12-02 07:30 UTC)');
  });

  it('a distillation halted by a non-finite loss is kept as such, the NaN as null (JSON has no NaN)', () => {
    const steps = stepLogs(1, 3);
    steps[2] = {
      ...steps[2]!,
      terms: { ...steps[2]!.terms, soft: Number.NaN, total: Number.POSITIVE_INFINITY },
    };
    const record = fromDistillRun(distillRun(nan, { steps, epochs: [] }), testContext())!;
    expect(record.outcome).toBe('non-finite');
    expect(record.message).toBe(nan.message);
    expect(record.steps[2]!.terms).toMatchObject({ soft: null, total: null });
    expect(record.steps[1]!.terms.soft).toBe(steps[1]!.terms.soft);
    expect(finalAccuracy(record)).toBeNull();
    expect(checkRun(JSON.parse(JSON.stringify(record)))).toEqual({ run: record });
  });

  it('a stopped distillation is kept; a paused one, or one without a step, is not (yet)', () => {
    expect(fromDistillRun(distillRun({ kind: 'stopped' }), testContext())!.outcome).toBe('stopped');
    expect(fromDistillRun(distillRun({ kind: 'paused' }), testContext())).toBeNull();
    expect(
      fromDistillRun(distillRun({ kind: 'stopped' }, { steps: [], epochs: [] }), testContext()),
    ).toBeNull();
  });

  it('a panel training is the ce method on all labels, without a teacher', () => {
    const record = fromTraining(studentTraining({ kind: 'done' }), testContext('t1', 'wasm'))!;
    expect(historyRunSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      panel: 'student',
      method: 'ce',
      params: {},
      labelledFraction: 1,
      teacher: null,
      dataset: { id: 'embedded', name: 'Embedded default' },
      outcome: 'done',
      msPerStep: 96,
    });
    expect(Object.keys(record.steps[0]!.terms)).toEqual(['ce', 'weightDecay', 'total']);
    // A non-finite loss pauses a training: that is an end for the history; a user's pause is not.
    expect(fromTraining(studentTraining(nan), testContext())!.outcome).toBe('non-finite');
    expect(fromTraining(studentTraining({ kind: 'paused' }), testContext())).toBeNull();
  });
});

describe('checkRun', () => {
  it('names the field and the problem', () => {
    const run = historyRun();
    expect(checkRun({ ...run, config: { ...run.config, learningRate: 50 } }).error).toBe(
      'config.learningRate: learning rate must be between 0.000001 and 10',
    );
    expect(checkRun({ ...run, format: 'something-else' }).error).toBe(
      'format: format must be "distillery-run"',
    );
    const { epochs, ...noEpochs } = run;
    expect(epochs.length).toBeGreaterThan(0);
    expect(checkRun(noEpochs).error).toMatch(/^epochs: /);
    expect(checkRun({ ...run, epochs: [...run.epochs, epochLog(3, 0.5)] }).error).toBe(
      'epochs: 3 epochs logged, but the run was set to 2',
    );
    expect(checkRun({ ...run, epochs: [run.epochs[1], run.epochs[0]] }).error).toBe(
      'epochs[0].epoch: epoch 2 where epoch 1 belongs; epochs[1].epoch: epoch 1 where epoch 2 belongs',
    );
    expect(checkRun({ ...run, steps: [{ ...run.steps[0], terms: { ce: 'x' } }] }).error).toMatch(
      /^steps\[0\]\.terms\.ce: /,
    );
    expect(checkRun(null).error).toBeTruthy();
  });
});

describe('continues: a kept run restored in a later visit is the same run', () => {
  const one = fromDistillRun(
    distillRun({ kind: 'stopped' }, { steps: stepLogs(1, 4), epochs: [epochLog(1, 0.3)] }),
    testContext('a'),
  )!;
  const both = historyRun('b');

  it('the same completed epochs, timing included, and more: the same run carried on', () => {
    expect(continues(both, one)).toBe(true);
    expect(continues(both, both)).toBe(true);
    expect(continues(one, both)).toBe(false);
  });

  it('another run never matches: other timing, other seed, or no completed epoch to know it by', () => {
    const retimed = { ...both, epochs: both.epochs.map((e) => ({ ...e, seconds: e.seconds + 0.001 })) };
    expect(continues(retimed, one)).toBe(false);
    expect(continues({ ...both, config: { ...both.config, seed: 2 } }, one)).toBe(false);
    expect(continues(both, { ...one, epochs: [] })).toBe(false);
  });
});
