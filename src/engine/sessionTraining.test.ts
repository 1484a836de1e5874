import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPARED_DATA_DIR } from '../cli/dataFiles';
import { RECORD_BYTES } from './data/cifar10';
import { findPreset, MODEL_PRESETS } from './models/presets';
import { LabSession } from './session';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './training/hyperparams';
import { exportModel } from './training/labModels';
import { memoryRunSlot, type RunSlot } from './training/savedRuns';
import type { EpochLog, StepLog } from './training/trainer';
import type { RunLane, RunListener, RunPosition } from './run/runTypes';

const records = async (path: string, count: number) =>
  new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path))).subarray(0, count * RECORD_BYTES);

/** A lab on a small real upload (256 train, 100 test images: 4 steps of 64 per epoch) with shared slots. */
async function smallLab(slots: Partial<Record<RunLane, RunSlot>>) {
  const lab = new LabSession({
    readPreparedFile: () => Promise.reject(new Error('not used')),
    runSlots: (lane) => (slots[lane] ??= memoryRunSlot()),
  });
  lab.useUploads([
    { name: 'data_batch_1.bin', bytes: await records('embedded/train.bin', 256) },
    { name: 'test_batch.bin', bytes: await records('embedded/test.bin', 100) },
  ]);
  return lab;
}

/** A plain training run: the `ce` method on every label. */
const onLabels = (train: TrainConfig) => ({ method: 'ce', params: {}, labelledFraction: 1, train });

/** Starts a plain training run in the lane of the config's role. */
const startOnLabels = (lab: LabSession, config: TrainConfig, listener: RunListener) =>
  lab.startRun(config.role, onLabels(config), listener);

const studentConfig = (overrides: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  role: 'student',
  model: 'cnn-small',
  epochs: 2,
  ...overrides,
});

/** Records what a run reports; `onBoundary` may act on a position (pause at a step). */
function recorder(onBoundary: (position: RunPosition) => void = () => undefined) {
  const steps: StepLog[] = [];
  const epochs: EpochLog[] = [];
  const positions: RunPosition[] = [];
  const listener: RunListener = {
    step: (log) => steps.push(log),
    epoch: (log) => epochs.push(log),
    boundary: (position) => {
      positions.push(position);
      onBoundary(position);
    },
    rewound: () => undefined,
  };
  return { steps, epochs, positions, listener };
}

const teacherPresets = MODEL_PRESETS.filter((p) => p.role === 'teacher')
  .map((p) => p.id)
  .join(', ');

const freshSlots = () => ({ teacher: memoryRunSlot(), student: memoryRunSlot() });

describe('LabSession training', () => {
  beforeAll(async () => {
    await new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) }).initBackend(
      'wasm',
    );
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('trains, pauses at a step, resumes there, and saves a checkpoint that restores the same curves', async () => {
    const slots = freshSlots();
    const lab = await smallLab(slots);
    let paused = false;
    const first = recorder((p) => {
      if (!paused && p.completedEpochs === 0 && p.stepInEpoch === 2) {
        paused = true;
        lab.pauseRun('student');
      }
    });
    expect(await startOnLabels(lab, studentConfig(), first.listener)).toEqual({ kind: 'paused' });
    expect(first.steps.map((s) => s.step)).toEqual([1, 2]);
    // Pausing saves: a reload here would resume at the same step.
    expect(await lab.savedRun('student')).toMatchObject({
      preset: 'cnn-small',
      completedEpochs: 0,
      stepInEpoch: 2,
      epochs: 2,
      testAccuracy: null,
    });

    const second = recorder();
    expect(await lab.resumeRun('student', second.listener)).toEqual({ kind: 'done' });
    expect(second.steps.map((s) => `${s.epoch}.${s.step}`)).toEqual([
      '1.3',
      '1.4',
      '2.1',
      '2.2',
      '2.3',
      '2.4',
    ]);
    expect(second.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(second.positions.at(-1)).toMatchObject({ completedEpochs: 2, stepInEpoch: 0, stepsPerEpoch: 4 });
    for (const log of second.steps) expect(Object.keys(log.terms)).toEqual(['ce', 'weightDecay', 'total']);
    await expect(lab.resumeRun('student', recorder().listener)).rejects.toThrow(
      "the student's run has ended",
    );

    const saved = await lab.savedRun('student');
    expect(saved).toMatchObject({
      completedEpochs: 2,
      stepInEpoch: 0,
      datasetId: expect.stringMatching(/^upload:/),
    });
    expect(saved!.testAccuracy).toBeCloseTo(second.epochs[1]!.testAccuracy, 6);

    // A new page: the same slots, the same dataset.
    const reloaded = await smallLab(slots);
    const restored = await reloaded.restoreSavedRun('student');
    expect(restored.finished).toBe(true);
    expect(restored.steps).toEqual([...first.steps, ...second.steps]);
    expect(restored.epochs).toEqual(second.epochs);
    const files = await reloaded.exportModel('student');
    expect(files.map((f) => f.name)).toEqual(['model.json', 'weights.bin']);
  });

  it('stops a running run, keeps its model, and refuses a second run while one trains', async () => {
    const lab = await smallLab(freshSlots());
    // Caught at once: the wasm backend turns an unhandled rejection in Node into a crash.
    let refusal: Promise<unknown> | null = null;
    const run = recorder((p) => {
      if (p.stepInEpoch === 1 && !refusal) {
        refusal = lab
          .startRun(
            'teacher',
            onLabels({ ...studentConfig(), role: 'teacher', model: 'resnet20' }),
            recorder().listener,
          )
          .catch((error: unknown) => error);
        void lab.stopRun('student');
      }
    });
    expect(await startOnLabels(lab, studentConfig(), run.listener)).toEqual({ kind: 'stopped' });
    expect(await refusal).toMatchObject({
      message: 'the student is training; pause it before you start the teacher',
    });
    expect((await lab.exportModel('student')).length).toBe(2);
    expect(await lab.savedRun('student')).toMatchObject({ completedEpochs: 0, stepInEpoch: 1 });
    await lab.discardSavedRun('student');
    expect(await lab.savedRun('student')).toBeNull();
  });

  it('refuses bad settings with the form’s reasons, and a preset of the other role', async () => {
    const lab = await smallLab(freshSlots());
    await expect(
      startOnLabels(lab, studentConfig({ learningRate: 50 }), recorder().listener),
    ).rejects.toThrow('learning rate must be between 0.000001 and 10');
    await expect(
      startOnLabels(lab, studentConfig({ model: 'resnet20' }), recorder().listener),
    ).rejects.toThrow('resnet20 is a teacher model, not a student');
  });

  it('a non-finite loss pauses the run, names the step, and Resume goes back to the last checkpoint', async () => {
    const lab = await smallLab(freshSlots());
    // A rate no network survives for long; training is deterministic, so the blow-up repeats exactly.
    const config = studentConfig({ epochs: 1000, learningRate: 10, momentum: 0.99, schedule: 'constant' });
    const first = recorder();
    const end = await startOnLabels(lab, config, first.listener);
    if (end.kind !== 'nan') throw new Error(`expected a non-finite loss, got ${end.kind}`);
    expect(end.epoch).toBeGreaterThan(1);
    expect(end.resumable).toBe(true);
    expect(end.message).toBe(
      `The student's loss term "${end.term}" is not finite at epoch ${end.epoch}, step ${end.step}; training is paused and the last good checkpoint (${end.epoch - 1} epoch${end.epoch === 2 ? '' : 's'} done) is kept; Resume goes back to it.`,
    );
    // The checkpoint is the last epoch end before the blow-up, with finite curves only.
    const saved = await lab.savedRun('student');
    expect(saved).toMatchObject({ completedEpochs: end.epoch - 1, stepInEpoch: 0 });

    let rewoundTo: number | null = null;
    const again = recorder();
    again.listener.rewound = (state) => {
      rewoundTo = state.epoch;
      expect(state.steps.every((s) => Object.values(s.terms).every(Number.isFinite))).toBe(true);
    };
    expect(await lab.resumeRun('student', again.listener)).toMatchObject({
      kind: 'nan',
      epoch: end.epoch,
      step: end.step,
    });
    expect(rewoundTo).toBe(end.epoch - 1);
    expect(again.steps[0]).toMatchObject({ epoch: end.epoch, step: 1 });
  });

  it('a blow-up before the first checkpoint cannot be resumed', async () => {
    const lab = await smallLab(freshSlots());
    const end = await startOnLabels(
      lab,
      studentConfig({ epochs: 1000, learningRate: 10, momentum: 0.99, schedule: 'constant', batchSize: 2 }),
      recorder().listener,
    );
    expect(end).toMatchObject({ kind: 'nan', resumable: false });
    if (end.kind === 'nan') expect(end.message).toContain('this run has no checkpoint yet');
    await expect(lab.resumeRun('student', recorder().listener)).rejects.toThrow(
      'loss became non-finite before its first checkpoint',
    );
  });

  it('imports a teacher by its metadata or by its shapes, and refuses a student or a wrong shape by name', async () => {
    const lab = await smallLab(freshSlots());
    const teacher = findPreset('resnet20').build(3);
    const files = Object.fromEntries(
      (await exportModel(teacher, 'resnet20', 'teacher')).map((f) => [f.name, f.bytes]),
    );
    teacher.dispose();
    const info = await lab.importTeacher({
      modelJson: files['model.json']!,
      weights: files['weights.bin']!,
      name: 'model.json',
    });
    // An upload has no stored accuracy: unknown until measured, and the import does not wait for that.
    expect(info).toMatchObject({ source: 'imported', preset: 'resnet20', testAccuracy: null });
    const measured = await lab.measureTeacher();
    expect(measured).toMatchObject({
      outcome: 'measured',
      info: { datasetId: expect.stringMatching(/^upload:/), accuracySource: 'measured' },
    });
    expect(measured.info!.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(measured.info!.testAccuracy).toBeLessThanOrEqual(1);

    const json = JSON.parse(new TextDecoder().decode(files['model.json']!));
    delete json.userDefinedMetadata;
    const bare = new TextEncoder().encode(JSON.stringify(json));
    expect(
      await lab.importTeacher({ modelJson: bare, weights: files['weights.bin']!, name: 'bare.json' }),
    ).toMatchObject({
      preset: 'resnet20',
      name: 'bare.json',
    });

    const student = findPreset('cnn-small').build(1);
    const studentFiles = await exportModel(student, 'cnn-small', 'student');
    student.dispose();
    await expect(
      lab.importTeacher({
        modelJson: studentFiles[0]!.bytes,
        weights: studentFiles[1]!.bytes,
        name: 'model.json',
      }),
    ).rejects.toThrow(
      `model.json: is a cnn-small model (student); a teacher must be one of ${teacherPresets}`,
    );

    const studentJson = JSON.parse(new TextDecoder().decode(studentFiles[0]!.bytes));
    delete studentJson.userDefinedMetadata;
    await expect(
      lab.importTeacher({
        modelJson: new TextEncoder().encode(JSON.stringify(studentJson)),
        weights: studentFiles[1]!.bytes,
        name: 'student.json',
      }),
    ).rejects.toThrow(/^student\.json: matches no teacher preset \(.*the vgg-bn preset/);
    // The last good import is still the teacher.
    expect(lab.teacherInfo()).toMatchObject({ preset: 'resnet20', name: 'bare.json' });
  });

  it('shows a stored accuracy at once, measures it on request, and a run starting cancels the measurement', async () => {
    const lab = new LabSession({
      readPreparedFile: async (path) => new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path))),
    });
    await lab.usePreparedSet('embedded');
    const shipped = join(import.meta.dirname, '..', '..', 'public', 'teacher');
    const files = {
      modelJson: new Uint8Array(await readFile(join(shipped, 'model.json'))),
      weights: new Uint8Array(await readFile(join(shipped, 'weights.bin'))),
      name: 'teacher/model.json',
    };
    // The shipped teacher carries its accuracies by set (measured by `npm run cli -- eval`).
    const info = await lab.importTeacher(files);
    expect(info).toMatchObject({ datasetId: 'embedded', accuracySource: 'stored', testAccuracy: 0.8435 });

    // A measurement yields to a run: starting one cancels it at its next slice, and the stored value stays.
    const measuring = lab.measureTeacher();
    const run = startOnLabels(
      lab,
      studentConfig({ epochs: 1 }),
      recorder(() => lab.stopRun('student')).listener,
    );
    expect(await measuring).toMatchObject({ outcome: 'cancelled', info: { accuracySource: 'stored' } });
    await run;
    // So does a backend switch: it does not wait behind a whole measurement.
    const beforeSwitch = lab.measureTeacher();
    await lab.initBackend('wasm');
    expect(await beforeSwitch).toMatchObject({ outcome: 'cancelled' });

    // Measured to the end, it agrees with the stored value (same weights, same images).
    const measured = await lab.measureTeacher();
    expect(measured).toMatchObject({ outcome: 'measured', info: { accuracySource: 'measured' } });
    expect(measured.info!.testAccuracy).toBeCloseTo(0.8435, 3);
    // And an export carries what is known, for the next import to show at once.
    const exported = Object.fromEntries((await lab.exportModel('teacher')).map((f) => [f.name, f.bytes]));
    const metadata = JSON.parse(new TextDecoder().decode(exported['model.json']!)).userDefinedMetadata;
    expect(metadata.distillery.testAccuracy).toMatchObject({
      embedded: measured.info!.testAccuracy,
      full: 0.8441,
    });
  });
});
