import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { noteWasmThreads, wasmThreadsInUse } from '../backend/wasmThreads';
import { findPreset, flopsPerImage } from '../models/presets';
import { coreForTeacher, MAX_THREADS_LENDING, MIN_TEACHER_FLOPS_RATIO } from './teacherCore';

// Node's wasm is single-threaded (wasmThreads.ts), so the narrowing itself is tested in the browser
// (e2e/teacherAhead.spec.ts); here, the rule around it.
describe('coreForTeacher', () => {
  let cnnSmall: tf.LayersModel;
  let resnet8: tf.LayersModel;
  let vggFast: tf.LayersModel;

  beforeAll(async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm');
    cnnSmall = findPreset('cnn-small').build(1);
    resnet8 = findPreset('resnet8').build(1);
    vggFast = findPreset('vgg-fast').build(1);
  });

  afterAll(async () => {
    noteWasmThreads(1);
    for (const model of [cnnSmall, resnet8, vggFast]) model.dispose();
    await initBackend('wasm');
  });

  it('the FLOPs rule splits the two measured cases (cnn-small gains from a lent thread, ResNet-8 loses)', () => {
    expect(flopsPerImage(vggFast) / flopsPerImage(cnnSmall)).toBeGreaterThan(MIN_TEACHER_FLOPS_RATIO);
    expect(flopsPerImage(vggFast) / flopsPerImage(resnet8)).toBeLessThan(MIN_TEACHER_FLOPS_RATIO);
  });

  it('single-threaded wasm has a free core: nothing to give back', () => {
    expect(wasmThreadsInUse()).toBe(1);
    const release = coreForTeacher(cnnSmall, vggFast);
    expect(release).toBeTypeOf('function');
    release!();
  });

  it('keeps the teacher in line where the pool is wide or the teacher small, and on other backends', async () => {
    noteWasmThreads(MAX_THREADS_LENDING + 1);
    expect(coreForTeacher(cnnSmall, vggFast)).toBeNull();
    noteWasmThreads(2);
    expect(coreForTeacher(resnet8, vggFast)).toBeNull();
    noteWasmThreads(1);
    expect((await initBackend('cpu')).backend).toBe('cpu');
    expect(coreForTeacher(cnnSmall, vggFast)).toBeNull();
  });
});
