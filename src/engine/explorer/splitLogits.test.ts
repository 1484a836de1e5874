import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracyOf } from '../config/temperature';
import { findPreset } from '../models/presets';
import { LabSession } from '../session';
import { makeBatch } from '../training/batches';
import { DEFAULT_TRAIN_CONFIG } from '../training/hyperparams';
import { evaluateModel } from '../training/trainer';
import { uploadLab, importRandomTeacher } from '../../testing/labs';

/** A lab on 64 real training and 60 real test images, with a (random-weight) vgg-fast teacher imported. */
async function labWithTeacher() {
  const lab = await uploadLab(64, 60);
  await importRandomTeacher(lab);
  return lab;
}

describe('the temperature explorer in the session', () => {
  beforeAll(async () => {
    await new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) }).initBackend(
      'wasm',
    );
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it("computes the teacher's logits on the test split once; they are the model's, slice by slice", async () => {
    const lab = await labWithTeacher();
    const before = tf.memory().numTensors;
    const first = await lab.teacherLogits();
    expect(tf.memory().numTensors).toBe(before);
    expect(first).toMatchObject({ model: 'vgg-fast (imported)', classes: 10, count: 60 });
    expect(first.logits).toHaveLength(600);
    expect(first.logits.every(Number.isFinite)).toBe(true);
    expect(first.labels).toEqual(lab.activeDataset().test.labels);
    // The same teacher (same seed), run on the whole split at once, gives the same logits and accuracy.
    const teacher = findPreset('vgg-fast').build(3);
    const { test } = lab.activeDataset();
    const all = Array.from({ length: test.count }, (_, i) => i);
    const want = tf.tidy(() => {
      const outputs = teacher.apply(tf.tensor4d(makeBatch(test, all), [test.count, 32, 32, 3]), {
        training: false,
      }) as tf.Tensor[];
      return outputs[0]!.dataSync();
    });
    const worst = first.logits.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
    expect(worst).toBeLessThan(1e-4);
    expect(accuracyOf(first.logits, first.labels, 10)).toBe((await evaluateModel(teacher, test)).accuracy);
    teacher.dispose();

    // Cached: a second request runs no model and hands out its own copy.
    first.logits.fill(0);
    const started = performance.now();
    const second = await lab.teacherLogits();
    expect(performance.now() - started).toBeLessThan(50);
    expect(second.logits.some((v) => v !== 0)).toBe(true);
  });

  it('follows the distilled student: new logits once its weights moved on, the same while they did not', async () => {
    const lab = await labWithTeacher();
    const silent = {
      ready: () => undefined,
      timing: () => undefined,
      step: () => undefined,
      epoch: () => undefined,
    };
    let pausedOnce = false;
    const train = {
      ...DEFAULT_TRAIN_CONFIG,
      role: 'student' as const,
      model: 'cnn-small',
      epochs: 1,
      batchSize: 32,
    };
    const end = await lab.startRun(
      'distill',
      { method: 'kd', params: {}, labelledFraction: 1, train },
      {
        ...silent,
        boundary: (p) => {
          if (!pausedOnce && p.stepInEpoch === 1) {
            pausedOnce = true;
            lab.pauseRun('distill');
          }
        },
      },
    );
    expect(end).toEqual({ kind: 'paused' });
    const early = await lab.studentLogits('distillation');
    expect(early.model).toBe('kd student, epoch 0 of 1, step 1');
    expect((await lab.studentLogits('distillation')).logits).toEqual(early.logits);
    expect(await lab.resumeRun('distill', { ...silent, boundary: () => undefined })).toEqual({
      kind: 'done',
    });
    const done = await lab.studentLogits('distillation');
    expect(done.model).toBe('kd student, epoch 1 of 1');
    expect(done.logits).toHaveLength(600);
    expect(done.logits).not.toEqual(early.logits);
  });

  it('says what is missing, and draws only test images that exist', async () => {
    const lab = await labWithTeacher();
    await expect(lab.studentLogits('distillation')).rejects.toThrow(
      'there is no distilled student yet; start a distillation',
    );
    await expect(lab.studentLogits('student')).rejects.toThrow(
      'there is no student yet; train one in the Student panel',
    );
    const [image] = lab.testImages([59]);
    expect(image).toMatchObject({ split: 'test', index: 59, label: lab.activeDataset().test.labels[59] });
    expect(image!.rgba).toHaveLength(32 * 32 * 4);
    expect(() => lab.testImages([60])).toThrow('test image 60 does not exist; the test split has 60 images');
  });
});
