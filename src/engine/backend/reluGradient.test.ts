import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { values } from './kernelTestData';
import { RELU_GRAD, registerReluGradient } from './reluGradient';

/** relu's gradient for dy at x on a backend, and the kernels the backward pass ran. */
async function reluGrad(backend: string, x: Float32Array, dy: Float32Array) {
  expect(await tf.setBackend(backend)).toBe(true);
  let grad: Float32Array = new Float32Array();
  const info = await tf.profile(() => {
    const g = tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor1d(x), tf.tensor1d(dy));
    grad = g.dataSync() as Float32Array;
    return g;
  });
  return { grad, kernels: info.kernels.map((k) => k.name) };
}

describe("ReLU's gradient in one wasm pass", () => {
  beforeAll(() => registerReluGradient());

  it('equals the cpu backend to the bit, signed zeros, infinities and NaN included', async () => {
    // x: positive, negative, +0, -0, NaN, +-Infinity; dy: the same kinds, across whole groups of 4.
    const specials = [1.5, -2, 0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3];
    const random = values(4096, 7);
    const x = Float32Array.from([...specials, ...specials.slice().reverse(), ...random]);
    const dy = Float32Array.from([...specials.map((v) => -v), ...specials, ...values(4096, 8)]);
    const wasm = await reluGrad('wasm', x, dy);
    const cpu = await reluGrad('cpu', x, dy);
    expect(wasm.kernels).toContain(RELU_GRAD);
    expect(wasm.kernels).not.toContain('Step');
    expect(cpu.kernels).not.toContain(RELU_GRAD);
    // Object.is per value: -0 and +0 apart, NaN equal to NaN.
    const differ = Array.from(wasm.grad).findIndex((v, i) => !Object.is(v, cpu.grad[i]));
    expect(differ).toBe(-1);
    expect(wasm.grad.length).toBe(x.length);
  });

  it("keeps tfjs-core's two kernels where the size is not whole groups of 4", async () => {
    const x = Float32Array.from([1, -1, 2, -2, 3, -3]);
    const { grad, kernels } = await reluGrad('wasm', x, Float32Array.from([5, 5, 5, 5, 5, 5]));
    expect(kernels).not.toContain(RELU_GRAD);
    expect(Array.from(grad)).toEqual([5, 0, 5, 0, 5, 0]);
  });
});
