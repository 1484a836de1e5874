import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../testing/errorOf';
import { type DistillConfig, DistillConfigError, parseDistillConfig } from './run/runSpec';
import { chooseLabelled } from './distill/method';
import { selectAnchors } from './distill/anchors';
import { DISTILL_METHODS } from './distill/registry';
import { findPreset } from './models/presets';
import { type SessionRunListener, type DistillSetup, LabSession } from './session';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './training/hyperparams';
import type { EpochLog, StepLog } from './training/trainer';
import type { RunPosition } from './run/runTypes';
import { uploadLab, importRandomTeacher } from '../testing/labs';

/** A lab on a small real upload: 256 train images (4 steps of 64 per epoch), 100 test images. */
const smallLab = () => uploadLab(256, 100);

/** The lab with a (random-weight) vgg-fast teacher imported. */
async function labWithTeacher() {
  const lab = await smallLab();
  const files = await importRandomTeacher(lab);
  return { lab, files };
}

const train = (overrides: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  role: 'student',
  model: 'cnn-small',
  epochs: 2,
  ...overrides,
});

const distill = (method: string, overrides: Partial<DistillConfig> = {}): DistillConfig => ({
  method,
  params: {},
  labelledFraction: 1,
  train: train(),
  ...overrides,
});

/** Records what a distillation reports; `onBoundary` may act on a position (pause at a step). */
function recorder(onBoundary: (position: RunPosition) => void = () => undefined) {
  const steps: StepLog[] = [];
  const epochs: EpochLog[] = [];
  const timings: (number | null)[] = [];
  const setups: DistillSetup[] = [];
  const listener: SessionRunListener = {
    ready: (setup) => setups.push(setup),
    timing: (ms) => timings.push(ms),
    step: (log) => steps.push(log),
    epoch: (log) => epochs.push(log),
    boundary: onBoundary,
  };
  return { steps, epochs, timings, setups, listener };
}

describe('parseDistillConfig', () => {
  it('checks the method, its parameters, the label fraction and the student settings together', () => {
    expect(parseDistillConfig(distill('kd', { params: { temperature: '2' } }))).toMatchObject({
      method: 'kd',
      params: { temperature: 2, alpha: 0.9 },
      labelledFraction: 1,
      train: { model: 'cnn-small', role: 'student' },
    });
    const error = errorOf(() =>
      parseDistillConfig(
        distill('kd', {
          params: { temperature: 0 },
          labelledFraction: 2,
          train: train({ model: 'vgg-fast', learningRate: 50 }),
        }),
      ),
    );
    expect(error).toBeInstanceOf(DistillConfigError);
    expect(error.message).toBe(
      'temperature must be between 0.5 and 20; got 0; labelled fraction must be between 0 and 1; got 2; learning rate must be between 0.000001 and 10',
    );
    expect(
      errorOf(() => parseDistillConfig(distill('kd', { train: train({ model: 'vgg-fast' }) }))).message,
    ).toBe('vgg-fast is a teacher model, not a student');
    expect(errorOf(() => parseDistillConfig(distill('nope'))).message).toBe(
      `unknown distillation method "nope"; methods: ${DISTILL_METHODS.map((m) => m.id).join(', ')}`,
    );
  });
});

describe('LabSession distillation', () => {
  beforeAll(async () => {
    await new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) }).initBackend(
      'wasm',
    );
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('lists the methods as plain data', async () => {
    const methods = (await smallLab()).distillMethods();
    expect(methods.map((m) => m.id)).toEqual(DISTILL_METHODS.map((m) => m.id));
    expect(methods.find((m) => m.id === 'kd')!.params.map((p) => p.name)).toEqual(['temperature', 'alpha']);
    expect(() => structuredClone(methods)).not.toThrow();
  });

  it('refuses to distil without a teacher, but runs the ce baseline without one', async () => {
    const lab = await smallLab();
    await expect(lab.startRun('distill', distill('kd'), recorder().listener)).rejects.toThrow(
      'there is no teacher to distil from: load the shipped teacher, import one, or train one in the Teacher panel',
    );
    await expect(
      lab.startRun('distill', distill('kd', { params: { temperature: 0 } }), recorder().listener),
    ).rejects.toThrow('temperature must be between 0.5 and 20; got 0');
    const baseline = recorder();
    expect(
      await lab.startRun('distill', distill('ce', { train: train({ epochs: 1 }) }), baseline.listener),
    ).toEqual({
      kind: 'done',
    });
    expect(baseline.setups).toEqual([
      {
        seconds: expect.any(Number),
        labelledCount: 256,
        trainCount: 256,
        teacher: null,
        teacherAhead: false,
      },
    ]);
    expect(baseline.steps).toHaveLength(4);
    for (const log of baseline.steps) expect(Object.keys(log.terms)).toEqual(['ce', 'weightDecay', 'total']);
    expect(baseline.epochs).toHaveLength(1);
  });

  it('distils with KD: every named term per step, step timing, and the teacher it used', async () => {
    const { lab } = await labWithTeacher();
    const run = recorder();
    expect(await lab.startRun('distill', distill('kd', { labelledFraction: 0.2 }), run.listener)).toEqual({
      kind: 'done',
    });
    // 20% of each class of the 256 images, rounded per class.
    const labelled = chooseLabelled(lab.activeDataset().train.labels, 0.2, DEFAULT_TRAIN_CONFIG.seed);
    expect(run.setups[0]).toMatchObject({
      labelledCount: labelled.reduce((n, l) => n + l, 0),
      trainCount: 256,
      teacher: { preset: 'vgg-fast' },
    });
    expect(run.steps.map((s) => `${s.epoch}.${s.step}`)).toEqual([
      '1.1',
      '1.2',
      '1.3',
      '1.4',
      '2.1',
      '2.2',
      '2.3',
      '2.4',
    ]);
    for (const log of run.steps) {
      expect(Object.keys(log.terms)).toEqual(['ce', 'soft', 'weightDecay', 'total']);
      expect(Object.values(log.terms).every(Number.isFinite)).toBe(true);
    }
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    // The first step is warm-up; later steps are timed.
    expect(run.timings[0]).toBeNull();
    expect(run.timings.at(-1)).toBeGreaterThan(0);
    await expect(lab.resumeRun('distill', recorder().listener)).rejects.toThrow(
      "the distillation's run has ended; start a new one",
    );
  });

  it('distils with AKD: pauses at a step, resumes there with L1, L2, L3; the teacher cannot change meanwhile', async () => {
    const { lab, files } = await labWithTeacher();
    const tensorsBefore = tf.memory().numTensors;
    let refusal: Promise<unknown> | null = null;
    let paused = false;
    const first = recorder((p) => {
      if (!paused && p.stepInEpoch === 2) {
        paused = true;
        refusal = lab
          .importTeacher({
            modelJson: files['model.json']!,
            weights: files['weights.bin']!,
            name: 'again.json',
          })
          .catch((error: unknown) => error);
        lab.pauseRun('distill');
      }
    });
    const config = distill('akd', { train: train({ epochs: 1 }) });
    expect(await lab.startRun('distill', config, first.listener)).toEqual({ kind: 'paused' });
    expect(await refusal).toMatchObject({
      message: 'a distillation is running from the current teacher; pause or stop it first',
    });
    expect(first.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(Object.keys(first.steps[0]!.terms)).toEqual([
      'ce',
      'l1',
      'l2',
      'l3',
      'akd',
      'weightDecay',
      'total',
    ]);
    expect(first.setups[0]!.seconds).toBeGreaterThan(0);

    const second = recorder();
    expect(await lab.resumeRun('distill', second.listener)).toEqual({ kind: 'done' });
    expect(second.steps.map((s) => s.step)).toEqual([3, 4]);
    expect(second.setups).toEqual([]);

    // A second run replaces the first; stopping it keeps nothing running, and the instance's tensors go.
    const third = recorder((p) => {
      if (p.stepInEpoch === 1) lab.stopRun('distill');
    });
    expect(await lab.startRun('distill', config, third.listener)).toEqual({ kind: 'stopped' });
    await expect(lab.resumeRun('distill', recorder().listener)).rejects.toThrow(
      "the distillation's run has ended",
    );
    // What stays: the last run's student (until the next run), a copy of the replaced run's trained student
    // (kept for the trust panel, which scores every student of the visit), and two known small leaks per run,
    // neither this module's: tfjs's MomentumOptimizer.dispose() leaves its learning-rate scalar, and
    // compose.ts's methodVariable() keeps the initial tensor of AKD's masks.
    const studentWeights = findPreset('cnn-small').build(0);
    const kept = studentWeights.weights.length;
    studentWeights.dispose();
    expect(tf.memory().numTensors - tensorsBefore).toBeLessThanOrEqual(2 * kept + 2 * 2);
    const models = await lab.oodModels();
    expect(models.map((m) => m.role)).toEqual(['teacher', 'student', 'student']);
    expect(models[1]!.label).toMatch(
      /^Student: akd, cnn-small \(distillation 1 of this visit, epoch 1 of 1\)$/,
    );
    // Both AKD students bring their own anchors (the run's, 1 per class) for u(x).
    expect(models[1]!.ownAnchors).toHaveLength(10);
    expect(models[2]!.ownAnchors).toEqual(models[1]!.ownAnchors);
  });

  it("starts AKD from the teacher's stored anchors when they fit the split (1 per class, every label)", async () => {
    const lab = await smallLab();
    const train1 = lab.activeDataset().train;
    const model = findPreset('vgg-fast').build(3);
    const chosen = await selectAnchors(model, train1, { perClass: 1 });
    model.dispose();
    // Another valid choice than the rule's, so that the run's anchors show which it used.
    const other = Array.from({ length: train1.count }, (_, i) => i).find(
      (i) => train1.labels[i] === 0 && i !== chosen.indices[0],
    )!;
    const indices = [other, ...chosen.indices.slice(1)];
    await importRandomTeacher(lab, {
      anchors: { [lab.activeDataset().id]: { indices, centrality: [...chosen.centrality] } },
    });
    const run = recorder((p) => {
      if (p.stepInEpoch === 1) lab.pauseRun('distill');
    });
    expect(
      await lab.startRun('distill', distill('akd', { train: train({ epochs: 1 }) }), run.listener),
    ).toEqual({
      kind: 'paused',
    });
    expect((await lab.runAnchors())!.anchors.map((a) => a.index)).toEqual(indices);
    lab.stopRun('distill');
  });

  it('ends a paused distillation when its teacher is replaced, and says so on Resume', async () => {
    const { lab, files } = await labWithTeacher();
    const run = recorder((p) => {
      if (p.stepInEpoch === 1) lab.pauseRun('distill');
    });
    expect(
      await lab.startRun('distill', distill('kd', { train: train({ epochs: 1 }) }), run.listener),
    ).toEqual({
      kind: 'paused',
    });
    await lab.importTeacher({
      modelJson: files['model.json']!,
      weights: files['weights.bin']!,
      name: 'other.json',
    });
    await expect(lab.resumeRun('distill', recorder().listener)).rejects.toThrow(
      'the distillation has ended: its teacher was replaced; start a new one',
    );
  });

  it('refuses a training run while a distillation is being set up or running', async () => {
    const { lab } = await labWithTeacher();
    let refusal: Promise<unknown> | null = null;
    const run = recorder((p) => {
      if (p.stepInEpoch === 1 && !refusal) {
        refusal = lab
          .startRun(
            'student',
            { method: 'ce', params: {}, labelledFraction: 1, train: train() },
            { step() {}, epoch() {}, boundary() {}, rewound() {} },
          )
          .catch((e: unknown) => e);
        lab.stopRun('distill');
      }
    });
    expect(await lab.startRun('distill', distill('kd'), run.listener)).toEqual({ kind: 'stopped' });
    expect(await refusal).toMatchObject({
      message: 'a distillation is running; pause it before you start the student',
    });
  });
});
