import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOn, values } from './kernelTestData';
import { heapAddress, wasmLoops } from './wasmLoops';
import { registerWasmGradientKernels } from './wasmGradients';
import {
  MAX_WINOGRAD_FLOATS,
  MIN_WINOGRAD_CHANNELS,
  setWinogradEnabled,
  winogradCalls,
} from './winogradConv';
import { MAX_FILTER_GRAD_PIXELS } from './winogradFilterGrad';

type Shape4 = [number, number, number, number];

const tensor = (shape: number[], seed: number) =>
  tf.tensor(
    values(
      shape.reduce((p, d) => p * d, 1),
      seed,
    ),
    shape,
  );

/** Largest |a - b| relative to the largest |a|: the direct sum's rounding is the reference. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    max = Math.max(max, d);
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  expect(scale).toBeGreaterThan(0.1);
  return max / scale;
}

/** F(2x2, 3x3) adds a few terms before multiplying, so its rounding is not the direct sum's; 1e-5 bounds it. */
const TOLERANCE = 1e-5;

/**
 * `runs`: how many kernels of a case go by F(2x2, 3x3): the forward conv twice (once more inside tf.grads),
 * the input gradient where k >= MIN_WINOGRAD_CHANNELS (it is a conv of dy, k channels in), the filter
 * gradient on maps of at most MAX_FILTER_GRAD_PIXELS whose tiles per image divide by 4.
 */
const CASES: { x: Shape4; k: number; runs: number }[] = [
  { x: [2, 8, 8, MIN_WINOGRAD_CHANNELS], k: 8, runs: 3 },
  { x: [3, 4, 6, 36], k: 12, runs: 2 },
  { x: [1, 2, 2, 64], k: 4, runs: 2 },
  { x: [2, 4, 8, 64], k: 40, runs: 4 },
  // dW's products: [c, k] read with V transposed in place (long-inner loop); [k, c] with dy's side on the left,
  // then transposed, where only k x c fits that loop (k not whole panels of 16); by XNNPACK with the side of
  // more channels on the left, transposed first (36 and 44 channels fit no panels).
  { x: [3, 8, 8, 32], k: 48, runs: 4 },
  { x: [2, 8, 8, 36], k: 44, runs: 4 },
  // A map larger than MAX_FILTER_GRAD_PIXELS: dW by F(2x2, 3x3) where its products fit the long-inner loop
  // (channels by 16, MAX_LONG_FILTER_GRAD_PIXELS), else by the other paths.
  { x: [1, 16, 16, 32], k: 32, runs: 4 },
  { x: [1, 16, 16, 36], k: 36, runs: 3 },
];

describe('Winograd F(2x2, 3x3) convolution on wasm', () => {
  beforeAll(() => {
    registerWasmGradientKernels();
  });

  it.each(CASES)(
    'conv2d, its input gradient and its filter gradient match cpu: %j',
    async ({ x: xs, k, runs }) => {
      const run = () => {
        const x = tensor(xs, 1) as tf.Tensor4D;
        const f = tensor([3, 3, xs[3], k], 2) as tf.Tensor4D;
        const weights = tensor([xs[0], xs[1], xs[2], k], 3);
        const loss = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), weights));
        const [dx, df] = tf.grads(loss)([x, f]);
        return [tf.conv2d(x, f, 1, 'same'), dx!, df!];
      };
      const cpu = await readOn('cpu', run);
      const before = winogradCalls();
      const wasm = await readOn('wasm', run);
      expect(winogradCalls() - before).toBe(runs);
      cpu.forEach((c, i) => expect(relativeError(c, wasm[i]!)).toBeLessThanOrEqual(TOLERANCE));
    },
  );

  it.each([
    ['relu', true],
    ['linear', true],
    ['relu', false],
  ] as const)('fused conv2d with %s, bias %s, matches cpu', async (activation, withBias) => {
    const run = () => [
      tf.fused.conv2d({
        x: tensor([2, 6, 4, 32], 4) as tf.Tensor4D,
        filter: tensor([3, 3, 32, 16], 5) as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: withBias ? tensor([16], 6) : undefined,
        activation,
      }),
    ];
    const [cpu] = await readOn('cpu', run);
    const before = winogradCalls();
    const [wasm] = await readOn('wasm', run);
    expect(winogradCalls() - before).toBe(1);
    expect(relativeError(cpu!, wasm!)).toBeLessThanOrEqual(TOLERANCE);
    if (activation === 'relu') expect(Math.min(...wasm!)).toBe(0);
  });

  it('leaves convolutions it does not cover to wasm (odd sides, stride 2, few channels, 5x5)', async () => {
    const declined: [Shape4, Shape4, number, 'same' | 'valid'][] = [
      [[1, 5, 6, 32], [3, 3, 32, 4], 1, 'same'],
      [[1, 6, 6, 32], [3, 3, 32, 4], 2, 'same'],
      [[1, 6, 6, 16], [3, 3, 16, 4], 1, 'same'],
      [[1, 6, 6, 32], [5, 5, 32, 4], 1, 'same'],
      [[1, 6, 6, 32], [3, 3, 32, 4], 1, 'valid'],
    ];
    const runs = declined.map(
      ([x, f, stride, pad]) =>
        () =>
          tf.conv2d(tensor(x, 7) as tf.Tensor4D, tensor(f, 8) as tf.Tensor4D, stride, pad),
    );
    for (const run of runs) {
      const [cpu] = await readOn('cpu', () => [run()]);
      const before = winogradCalls();
      const [wasm] = await readOn('wasm', () => [run()]);
      expect(winogradCalls()).toBe(before);
      expect(relativeError(cpu!, wasm!)).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('splits a batch whose transforms exceed MAX_WINOGRAD_FLOATS into chunks of images, and sums dW over them', async () => {
    // 16 x 4 x 4 x 256 floats per image: 160 images make 2 chunks, for the conv and for its filter gradient.
    const xs: Shape4 = [160, 8, 8, 256];
    expect(xs[1] * xs[2]).toBeLessThanOrEqual(MAX_FILTER_GRAD_PIXELS);
    expect(16 * 4 * 4 * 256 * xs[0]).toBeGreaterThan(MAX_WINOGRAD_FLOATS);
    const run = () => {
      const x = tensor(xs, 9) as tf.Tensor4D;
      const f = tensor([3, 3, 256, 8], 10) as tf.Tensor4D;
      const weights = tensor([160, 8, 8, 8], 11);
      const loss = (b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, b as tf.Tensor4D, 1, 'same'), weights));
      return [tf.conv2d(x, f, 1, 'same'), tf.grad(loss)(f)];
    };
    // Against wasm's direct conv and im2col filter gradient (cpu takes half a minute here; the small cases
    // above tie both paths to cpu).
    setWinogradEnabled(false);
    let direct: Float32Array[];
    try {
      direct = await readOn('wasm', run);
    } finally {
      setWinogradEnabled(true);
    }
    const before = winogradCalls();
    const wasm = await readOn('wasm', run);
    expect(winogradCalls() - before).toBe(3);
    direct.forEach((d, i) => expect(relativeError(d, wasm[i]!)).toBeLessThanOrEqual(TOLERANCE));
  });
});

describe('transpose4 (the wasm loop the filter gradient transposes with)', () => {
  it('writes each [rows, cols] matrix transposed', async () => {
    await tf.setBackend('wasm');
    const wasm = tf.backend() as BackendWasm;
    const loops = wasmLoops(wasm);
    expect(loops).not.toBeNull();
    const [rows, cols, count] = [8, 12, 2];
    const src = tf.tensor(values(rows * cols * count, 12), [count, rows, cols]);
    const dst = tf.zeros([count, cols, rows]);
    loops!.transpose4(heapAddress(wasm, src.dataId), heapAddress(wasm, dst.dataId), rows, cols, count);
    const expected = tf.transpose(src, [0, 2, 1]);
    expect(Array.from(dst.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([src, dst, expected]);
  });
});
