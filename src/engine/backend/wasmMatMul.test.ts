import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOn, values } from './kernelTestData';
import { registerWasmGradientKernels } from './wasmGradients';

/** Largest |a - b| relative to the largest |b| (products of K terms: absolute error grows with K). */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const CASES: Case[] = [
  { a: [37, 5], b: [37, 11], transposeA: true, transposeB: false },
  { a: [5, 37], b: [11, 37], transposeA: false, transposeB: true },
  { a: [37, 5], b: [11, 37], transposeA: true, transposeB: true },
  { a: [64, 64], b: [64, 300], transposeA: true, transposeB: false },
  // A batch of one matrix, and a real batch (left to wasm's own kernel).
  { a: [1, 9, 6], b: [1, 9, 4], transposeA: true, transposeB: false },
  { a: [3, 6, 9], b: [3, 4, 9], transposeA: false, transposeB: true },
  { a: [7, 8], b: [8, 5], transposeA: false, transposeB: false },
];

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

describe('wasm BatchMatMul with transposed operands', () => {
  beforeAll(() => {
    expect(registerWasmGradientKernels()).toContain('BatchMatMul');
  });

  it.each(CASES)('equals the cpu backend: a $a (T $transposeA), b $b (T $transposeB)', async (c) => {
    const run = () => {
      const a = tf.tensor(values(size(c.a), 1), c.a);
      const b = tf.tensor(values(size(c.b), 2), c.b);
      const out = tf.matMul(a, b, c.transposeA, c.transposeB);
      return [out, tf.tensor(out.shape)];
    };
    const [cpuOut, cpuShape] = await readOn('cpu', run);
    const [wasmOut, wasmShape] = await readOn('wasm', run);
    expect(Array.from(wasmShape!)).toEqual(Array.from(cpuShape!));
    expect(relativeError(wasmOut!, cpuOut!)).toBeLessThan(1e-6);
  });

  it("gives a matMul's gradients (transposed products) as the cpu backend does", async () => {
    // d/da and d/db of sum(w * (a^T b)): the backward pass asks for b w^T and a w, transposed both ways.
    const run = () => {
      const a = tf.tensor2d(values(40 * 6, 3), [40, 6]);
      const b = tf.tensor2d(values(40 * 9, 4), [40, 9]);
      const w = tf.tensor2d(values(6 * 9, 5), [6, 9]);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(w, tf.matMul(x, y, true))))([
        a,
        b,
      ]);
      return [ga!, gb!];
    };
    const cpu = await readOn('cpu', run);
    const wasm = await readOn('wasm', run);
    cpu.forEach((expected, i) => expect(relativeError(wasm[i]!, expected)).toBeLessThan(1e-6));
  });

  it('frees its transposed copies', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor2d(values(30 * 4, 6), [30, 4]);
    const b = tf.tensor2d(values(5 * 30, 7), [5, 30]);
    tf.matMul(a, b, true, true).dispose(); // warm-up
    const backend = tf.engine().backend;
    const dataBefore = backend.numDataIds();
    const tensorsBefore = tf.memory().numTensors;
    const out = tf.matMul(a, b, true, true);
    expect(backend.numDataIds()).toBe(dataBefore + 1);
    out.dispose();
    expect(backend.numDataIds()).toBe(dataBefore);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    tf.dispose([a, b]);
  });
});
