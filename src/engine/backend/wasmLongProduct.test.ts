import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOn, relativeError, values } from './kernelTestData';
import { registerWasmGradientKernels } from './wasmGradients';
import { heapAddress, wasmLoops } from './wasmLoops';
import { innerBlock, longProduct, longProductBatch, longProducts } from './wasmLongProduct';
import { setWinogradEnabled } from './winogradConv';

describe('the wasm long-inner product (weight gradients)', () => {
  beforeAll(async () => {
    registerWasmGradientKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  it.each([
    // Odd and even row counts, inner dimensions across block edges, 1 to 4 panels, strided rows of A.
    { rows: 1, inner: 1, cols: 16, lda: 1 },
    { rows: 2, inner: 0, cols: 16, lda: 1 },
    { rows: 3, inner: 5, cols: 32, lda: 7 },
    { rows: 27, inner: 3000, cols: 16, lda: 3000 },
    { rows: 16, inner: innerBlock(64) * 2 + 3, cols: 64, lda: innerBlock(64) * 2 + 40 },
    { rows: 2, inner: 700, cols: 48, lda: 700 },
  ])(
    'equals a float64 sum of A B, also added to C: $rows x $inner x $cols',
    async ({ rows, inner, cols, lda }) => {
      const backend = tf.backend() as BackendWasm;
      const loops = wasmLoops(backend);
      expect(loops).not.toBeNull();
      const a = tf.tensor1d(values(rows * lda, 1));
      const b = tf.tensor1d(values(inner * cols, 2));
      const start = values(rows * cols, 3);
      const c = tf.tensor1d(start);
      const [av, bv] = [a.dataSync(), b.dataSync()];
      // The loop's order: C's value (or 0), then each product added in inner-index order, all in float32.
      const expected = (withStart: boolean) =>
        Float32Array.from({ length: rows * cols }, (_, i) => {
          const [r, j] = [Math.floor(i / cols), i % cols];
          let sum = withStart ? start[i]! : 0;
          for (let k = 0; k < inner; k++)
            sum = Math.fround(sum + Math.fround(av[r * lda + k]! * bv[k * cols + j]!));
          return sum;
        });
      const run = (accumulate: boolean) =>
        longProduct(
          loops!,
          heapAddress(backend, a.dataId),
          heapAddress(backend, b.dataId),
          heapAddress(backend, c.dataId),
          rows,
          inner,
          cols,
          4 * lda,
          accumulate,
        );
      run(true);
      expect(c.dataSync()).toEqual(expected(true));
      run(false);
      expect(c.dataSync()).toEqual(expected(false));
      tf.dispose([a, b, c]);
    },
  );

  it.each([
    { rows: 1, inner: 3, cols: 16, ld: 1 },
    { rows: 5, inner: innerBlock(32) + 7, cols: 32, ld: 9 },
    { rows: 64, inner: 300, cols: 64, ld: 64 },
  ])(
    'reads A transposed in place ([inner, rows], aStep 4 rows) in the same order: $rows x $inner x $cols',
    async ({ rows, inner, cols, ld }) => {
      const backend = tf.backend() as BackendWasm;
      const loops = wasmLoops(backend)!;
      const aT = tf.tensor1d(values(inner * ld, 7));
      const b = tf.tensor1d(values(inner * cols, 8));
      const c = tf.tensor1d(new Float32Array(rows * cols));
      const [av, bv] = [aT.dataSync(), b.dataSync()];
      const expected = Float32Array.from({ length: rows * cols }, (_, i) => {
        const [r, j] = [Math.floor(i / cols), i % cols];
        let sum = 0;
        for (let k = 0; k < inner; k++)
          sum = Math.fround(sum + Math.fround(av[k * ld + r]! * bv[k * cols + j]!));
        return sum;
      });
      const [aAt, bAt, cAt] = [aT, b, c].map((t) => heapAddress(backend, t.dataId));
      longProductBatch(loops, 1, [aAt!, bAt!, cAt!], [0, 0, 0], rows, inner, cols, 4, false, 4 * ld);
      expect(c.dataSync()).toEqual(expected);
      tf.dispose([aT, b, c]);
    },
  );

  // One conv per dW path with a multiple of 16 output channels: im2col (3 input channels; stride 2; a 1x1
  // shortcut), the shifted windows (16 channels on a 12x12 map), Winograd's (32 channels, 8x8 map).
  it.each([
    { x: [3, 12, 12, 3], f: [3, 3, 3, 16], strides: 1 },
    { x: [2, 12, 12, 8], f: [3, 3, 8, 32], strides: 2 },
    { x: [2, 12, 12, 8], f: [1, 1, 8, 16], strides: 2 },
    { x: [2, 12, 12, 16], f: [3, 3, 16, 16], strides: 1 },
    { x: [3, 8, 8, 32], f: [3, 3, 32, 64], strides: 1 },
  ])("gives a conv's gradients as the cpu backend does: x $x, filter $f, stride $strides", async (c) => {
    const run = () => {
      const x = tf.tensor4d(
        values(
          c.x.reduce((p, d) => p * d, 1),
          4,
        ),
        c.x as [number, number, number, number],
      );
      const f = tf.tensor4d(
        values(
          c.f.reduce((p, d) => p * d, 1),
          5,
        ),
        c.f as [number, number, number, number],
      );
      const shape = tf.conv2d(x, f, c.strides, 'same').shape;
      const w = tf.tensor(
        values(
          shape.reduce((p, d) => p * d, 1),
          6,
        ),
        shape,
      );
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(w, tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, 'same'))),
      )([x, f]);
      return [gx!, gf!];
    };
    const cpu = await readOn('cpu', run);
    const before = longProducts();
    const wasm = await readOn('wasm', run);
    expect(longProducts()).toBeGreaterThan(before);
    cpu.forEach((expected, i) => expect(relativeError(wasm[i]!, expected)).toBeLessThan(1e-5));
  });

  it("runs Winograd's 16 forward products (a fused conv with bias and ReLU too) as the cpu backend's conv", async () => {
    const run = () => {
      const x = tf.tensor4d(values(3 * 8 * 8 * 32, 11), [3, 8, 8, 32]);
      const f = tf.tensor4d(values(3 * 3 * 32 * 48, 12), [3, 3, 32, 48]);
      const bias = tf.tensor1d(values(48, 13));
      return [
        tf.conv2d(x, f, 1, 'same'),
        tf.fused.conv2d({ x, filter: f, bias, activation: 'relu', pad: 'same', strides: 1 }),
      ];
    };
    const cpu = await readOn('cpu', run);
    const before = longProducts();
    const wasm = await readOn('wasm', run);
    expect(longProducts() - before).toBe(2 * 16);
    cpu.forEach((expected, i) => expect(relativeError(wasm[i]!, expected)).toBeLessThan(1e-5));
  });

  it('leaves column counts that are not whole panels to XNNPACK, with the same gradients', async () => {
    const run = () => {
      const x = tf.tensor4d(values(2 * 10 * 10 * 3, 7), [2, 10, 10, 3]);
      const f = tf.tensor4d(values(3 * 3 * 3 * 12, 8), [3, 3, 3, 12]);
      return [tf.grad((b: tf.Tensor) => tf.sum(tf.conv2d(x, b as tf.Tensor4D, 1, 'same')))(f)];
    };
    const cpu = await readOn('cpu', run);
    const before = longProducts();
    const wasm = await readOn('wasm', run);
    expect(longProducts()).toBe(before);
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
  });

  it('takes Winograd off and back on without changing the gradients beyond rounding', async () => {
    // The same 8x8, 32 -> 64 conv by im2col with the loop (Winograd off) and by Winograd's products.
    const run = () => {
      const x = tf.tensor4d(values(3 * 8 * 8 * 32, 9), [3, 8, 8, 32]);
      const f = tf.tensor4d(values(3 * 3 * 32 * 64, 10), [3, 3, 32, 64]);
      return [tf.grad((b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, b as tf.Tensor4D, 1, 'same'))))(f)];
    };
    const [winograd] = await readOn('wasm', run);
    setWinogradEnabled(false);
    try {
      const [im2col] = await readOn('wasm', run);
      expect(relativeError(im2col!, winograd!)).toBeLessThan(1e-5);
    } finally {
      setWinogradEnabled(true);
    }
  });
});
