/**
 * The session's report card: refused at once without a teacher or a distilled student and while a run trains;
 * then the card of the imported teacher and a two-step `nd` student, with the names and sizes it reports.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRandomTeacher, uploadLab } from '../testing/labs';
import { LabSession, type SessionRunListener } from './session';
import { DEFAULT_TRAIN_CONFIG } from './training/hyperparams';

describe('LabSession.reportCard', () => {
  beforeAll(async () => {
    await new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) }).initBackend(
      'wasm',
    );
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('refuses without models or while training, then reports the teacher and the latest distilled student', async () => {
    const lab = await uploadLab(256, 100);
    await expect(lab.reportCard()).rejects.toThrow('there is no teacher yet: load, import or train one');
    const files = await importRandomTeacher(lab);
    await expect(lab.reportCard()).rejects.toThrow('there is no distilled student yet; start a distillation');

    const refusals: Promise<unknown>[] = [];
    const listener: SessionRunListener = {
      step: () => undefined,
      epoch: () => undefined,
      boundary: (position) => {
        if (position.stepInEpoch === 1) refusals.push(lab.reportCard().catch((e: Error) => e.message));
        if (position.stepInEpoch === 2) lab.stopRun('distill');
      },
    };
    const config = {
      method: 'nd',
      params: {},
      labelledFraction: 1,
      train: { ...DEFAULT_TRAIN_CONFIG, role: 'student' as const, model: 'cnn-small', epochs: 1 },
    };
    await lab.startRun('distill', config, listener);
    expect(await Promise.all(refusals)).toEqual([
      'a distillation is running; pause it before you measure the report card',
    ]);

    const card = await lab.reportCard();
    expect(card.teacher.name).toBe('vgg-fast (imported)');
    expect(card.teacher.weightBytes).toBe(files['weights.bin']!.byteLength);
    expect(card.student.name).toBe('nd student, epoch 0 of 1, step 2');
    expect(card.student.preset).toBe('cnn-small');
    expect(card.testImages).toBe(100);
    expect(card.compression).toBeCloseTo(card.teacher.weightBytes / card.student.weightBytes, 12);
  }, 120_000);
});
