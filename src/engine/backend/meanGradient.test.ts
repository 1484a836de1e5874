import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { values } from './kernelTestData';
import { MEAN_GRAD, registerMeanGradient } from './meanGradient';

/** mean(x, axis, keepDims)'s gradient for a dy of random values on a backend, and the kernels it ran. */
async function meanGrad(backend: string, shape: number[], axis: number | number[], keepDims: boolean) {
  expect(await tf.setBackend(backend)).toBe(true);
  const x = tf.tensor(values(tf.util.sizeFromShape(shape), 3), shape);
  const mean = tf.mean(x, axis, keepDims);
  const dy = tf.tensor(values(mean.size, 4), mean.shape);
  mean.dispose();
  let grad: Float32Array = new Float32Array();
  const info = await tf.profile(() => {
    const g = tf.grad((t: tf.Tensor) => tf.mean(t, axis, keepDims))(x, dy);
    grad = g.dataSync() as Float32Array;
    return g;
  });
  tf.dispose([x, dy]);
  return { grad, kernels: info.kernels.map((k) => k.name) };
}

describe("Mean's gradient as one wasm kernel", () => {
  beforeAll(() => registerMeanGradient());

  it.each([
    { shape: [6, 4, 4, 12], axis: [1, 2], keepDims: false, name: 'global average pooling, 16 pixels' },
    { shape: [3, 5, 3, 8], axis: [1, 2], keepDims: true, name: '15 pixels, dims kept' },
    { shape: [2, 7, 4], axis: 1, keepDims: false, name: 'one middle axis of 7' },
    { shape: [9, 8], axis: 0, keepDims: false, name: 'the leading axis' },
    { shape: [4, 1, 1, 16], axis: [2, 1], keepDims: false, name: 'axes of size 1, given out of order' },
    { shape: [2, 3, 4, 8], axis: [0, 1, 2], keepDims: false, name: 'three leading axes' },
  ])('equals the cpu backend to the bit: $name', async ({ shape, axis, keepDims }) => {
    const wasm = await meanGrad('wasm', shape, axis, keepDims);
    const cpu = await meanGrad('cpu', shape, axis, keepDims);
    expect(wasm.kernels).toContain(MEAN_GRAD);
    expect(wasm.kernels).not.toContain('Multiply');
    expect(cpu.kernels).not.toContain(MEAN_GRAD);
    expect(wasm.grad.length).toBe(tf.util.sizeFromShape(shape));
    const differ = Array.from(wasm.grad).findIndex((v, i) => !Object.is(v, cpu.grad[i]));
    expect(differ).toBe(-1);
  });

  it.each([
    { shape: [4, 6, 3], axis: 1, name: 'an inner block under 4 floats' },
    { shape: [4, 6, 8], axis: [0, 2], name: 'axes that are not one run' },
    { shape: [5, 8], axis: -1, name: 'the last axis' },
  ])("keeps tfjs-core's gradient for $name, with the same values", async ({ shape, axis }) => {
    const wasm = await meanGrad('wasm', shape, axis, false);
    const cpu = await meanGrad('cpu', shape, axis, false);
    expect(wasm.kernels).not.toContain(MEAN_GRAD);
    expect(Array.from(wasm.grad)).toEqual(Array.from(cpu.grad));
  });

  it('keeps signed zeros, infinities and NaN as the cpu backend does', async () => {
    const specials = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, -3, 7];
    const grads = [];
    for (const backend of ['wasm', 'cpu']) {
      expect(await tf.setBackend(backend)).toBe(true);
      const x = tf.zeros([2, 3, 4]);
      const g = tf.grad((t: tf.Tensor) => tf.mean(t, 1))(x, tf.tensor2d(specials, [2, 4]));
      grads.push(Array.from(g.dataSync()));
      tf.dispose([x, g]);
    }
    const [wasm, cpu] = grads as [number[], number[]];
    expect(wasm.findIndex((v, i) => !Object.is(v, cpu[i]))).toBe(-1);
    expect(Object.is(wasm[1], -0)).toBe(true);
  });

  it('dy / count, repeated over the reduced pixels', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const x = tf.zeros([1, 3, 1, 4]);
    const g = tf.grad((t: tf.Tensor) => tf.mean(t, [1, 2]))(x, tf.tensor2d([[3, 6, 9, 1]]));
    expect(Array.from(g.dataSync())).toEqual(
      [1, 2, 3, 1 / 3, 1, 2, 3, 1 / 3, 1, 2, 3, 1 / 3].map(Math.fround),
    );
    tf.dispose([x, g]);
  });
});
