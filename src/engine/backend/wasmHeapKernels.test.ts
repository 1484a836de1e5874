import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOn, values } from './kernelTestData';
import { registerWasmGradientKernels } from './wasmGradients';
import { canUseShifted, gridSize } from './convFilterGradShifted';
import { fillIm2colT, fillIm2colTWasm, MAX_IM2COL_FLOATS, tiledMaxPool2Grad } from './wasmHeapKernels';
import { heapAddress, wasmLoops } from './wasmLoops';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Pad = 'same' | 'valid' | number;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    max = Math.max(max, d);
  }
  return max;
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface PoolCase {
  x: [number, number, number, number];
  size: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  /** Quantise x to this many levels per unit, so that windows hold ties (the first maximum must win). */
  levels?: number;
}

const POOL_CASES: PoolCase[] = [
  { x: [2, 8, 8, 3], size: 2, strides: 2, pad: 'valid' },
  { x: [2, 7, 9, 4], size: 2, strides: 2, pad: 'same' },
  // Overlapping windows: one input can be the maximum of several windows, whose dy must add up.
  { x: [2, 9, 9, 2], size: 3, strides: 1, pad: 'same' },
  { x: [3, 10, 7, 5], size: [3, 2], strides: [2, 1], pad: 'valid' },
  { x: [1, 11, 11, 2], size: 3, strides: 2, pad: 1 },
  { x: [2, 8, 8, 6], size: 2, strides: 2, pad: 'valid', levels: 2 },
  { x: [2, 9, 9, 3], size: 3, strides: 2, pad: 'same', levels: 1 },
];

describe('wasm heap kernels', () => {
  beforeAll(() => {
    registerWasmGradientKernels();
  });

  it.each(POOL_CASES)('MaxPoolGrad (via the maxPool gradient) matches cpu: %j', async (c) => {
    const run = () => {
      const x = tf.tensor4d(
        values(
          c.x.reduce((p, d) => p * d),
          3,
          c.levels,
        ),
        c.x,
      );
      const f = (t: tf.Tensor) => {
        const y = tf.maxPool(t as tf.Tensor4D, c.size, c.strides, c.pad);
        // A non-uniform upstream gradient, so that a dy routed to the wrong input shows.
        return tf.sum(tf.mul(y, tf.tensor(values(y.size, 5), y.shape)));
      };
      return [tf.grad(f)(x)];
    };
    const [cpu] = await readOn('cpu', run);
    const [wasm] = await readOn('wasm', run);
    expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(cpu!, wasm!)).toBeLessThanOrEqual(1e-6);
  });

  it('MaxPoolGrad skips NaN like cpu', async () => {
    const run = () => {
      const x = tf.tensor4d([Number.NaN, 1, 2, Number.NaN, -1, -3, Number.NaN, -2], [1, 2, 4, 1]);
      return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), 3)))(x)];
    };
    const [cpu] = await readOn('cpu', run);
    const [wasm] = await readOn('wasm', run);
    expect(Array.from(wasm!)).toEqual(Array.from(cpu!));
    expect(Array.from(wasm!)).toEqual([0, 3, 3, 0, 0, 0, 0, 0]);
  });

  type ConvPad =
    'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  // Stride-1 convs with 8+ input channels take the shifted-window path (convFilterGradShifted.ts).
  const SHIFTED_CASES: {
    x: [number, number, number, number];
    f: [number, number, number, number];
    pad: ConvPad;
  }[] = [
    { x: [3, 8, 8, 8], f: [3, 3, 8, 5], pad: 'same' },
    { x: [2, 9, 7, 12], f: [3, 3, 12, 4], pad: 'valid' },
    { x: [2, 6, 10, 8], f: [5, 3, 8, 6], pad: 'same' },
    { x: [2, 7, 7, 9], f: [2, 2, 9, 3], pad: 'same' },
    { x: [2, 5, 5, 16], f: [1, 1, 16, 7], pad: 'valid' },
    { x: [1, 6, 6, 8], f: [3, 3, 8, 2], pad: 2 },
    {
      x: [2, 7, 6, 8],
      f: [3, 3, 8, 3],
      pad: [
        [0, 0],
        [2, 0],
        [0, 3],
        [0, 0],
      ],
    },
  ];

  it('sizes the shifted-window grid so that neighbouring images share their padding', () => {
    // 3x3 'same' on 32: one zero row between images serves as bottom and top padding.
    expect(gridSize(3, 32, 32, 1)).toBe(33);
    // 'valid': windows never leave the image.
    expect(gridSize(3, 9, 7, 0)).toBe(9);
    expect(gridSize(1, 5, 5, 0)).toBe(5);
    // Pad 2 before a 3-row kernel on 6 rows (8 outputs): the two zero rows after an image are the next one's.
    expect(gridSize(3, 6, 8, 2)).toBe(8);
    // 5 rows, 'same' (2 before, 2 after): two shared zero rows.
    expect(gridSize(5, 6, 6, 2)).toBe(8);
  });

  it.each(SHIFTED_CASES)('Conv2DBackpropFilter, stride 1 (shifted windows), matches cpu: %j', async (c) => {
    const run = () => {
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.pad);
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.f[3]];
      const x = tf.tensor4d(
        values(
          c.x.reduce((p, d) => p * d),
          9,
        ),
        c.x,
      );
      const dy = tf.tensor(
        values(
          dyShape.reduce((p, d) => p * d),
          10,
        ),
        dyShape,
      );
      return [
        tf
          .engine()
          .runKernel<tf.Tensor>(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
          ),
      ];
    };
    expect(canUseShifted(tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.pad))).toBe(true);
    const [cpu] = await readOn('cpu', run);
    const wasmBackend = tf.findBackend('wasm')!;
    const before = wasmBackend.numDataIds();
    const [wasm] = await readOn('wasm', run);
    // The aliases and every intermediate are gone (the wasm backend's own count of live data).
    expect(wasmBackend.numDataIds()).toBe(before);
    expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(cpu!, wasm!)).toBeLessThanOrEqual(1e-4);
  });

  const IM2COL_CASES: {
    x: [number, number, number, number];
    f: [number, number, number, number];
    strides: number | [number, number];
    pad: ConvPad;
  }[] = [
    { x: [3, 8, 8, 2], f: [3, 3, 2, 4], strides: 1, pad: 'same' },
    { x: [3, 8, 8, 2], f: [3, 3, 2, 4], strides: 2, pad: 'same' },
    { x: [2, 9, 7, 3], f: [3, 2, 3, 4], strides: [2, 3], pad: 'valid' },
    { x: [3, 6, 7, 2], f: [1, 1, 2, 4], strides: 2, pad: 'same' },
    {
      x: [2, 6, 7, 2],
      f: [3, 3, 2, 3],
      strides: 2,
      pad: [
        [0, 0],
        [3, 1],
        [0, 4],
        [0, 0],
      ],
    },
  ];

  it.each(IM2COL_CASES)('the wasm im2col loop writes what the JS loop does: %j', async (c) => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as BackendWasm;
    const loops = wasmLoops(backend);
    expect(loops).not.toBeNull();
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, 1, c.pad);
    const [n, h, w, cin] = c.x;
    const g = { info, kh: c.f[0], kw: c.f[1] };
    // Images 1 .. n-1: a chunk that does not start at the first image.
    const size = c.f[0] * c.f[1] * cin * (n - 1) * info.outHeight * info.outWidth;
    // The JS loop reads x transposed to [C, N, H, W], the wasm loop either that or x itself.
    const x = tf.tensor(values(n * h * w * cin, 5), c.x);
    const xT = tf.transpose(x, [3, 0, 1, 2]);
    const expected = new Float32Array(size);
    fillIm2colT(xT.dataSync() as Float32Array, expected, g, 1, n);
    for (const channelsLast of [true, false]) {
      // NaN everywhere first, so that an element the loop leaves unwritten shows.
      const out = tf.fill([size], Number.NaN);
      const src = heapAddress(backend, (channelsLast ? x : xT).dataId);
      fillIm2colTWasm(loops!, src, heapAddress(backend, out.dataId), g, 1, n, channelsLast);
      expect(Array.from(out.dataSync())).toEqual(Array.from(expected));
      out.dispose();
    }
    tf.dispose([x, xT]);
  });

  it.each([7, 8, 16])(
    'the wasm 2x2 max-pool gradient loops write what the JS loop does, ties, NaN and -Infinity included (%i channels)',
    async (c) => {
      await tf.setBackend('wasm');
      const backend = tf.backend() as unknown as BackendWasm;
      const loops = wasmLoops(backend)!;
      const [rows, ow] = [6, 5];
      const size = rows * 2 * ow * 2 * c;
      // Few levels, so that windows hold ties; some NaN and -Infinity.
      const xv = values(size, 3, 2).map((v, i) => (i % 11 === 0 ? Number.NaN : i % 13 === 0 ? -Infinity : v));
      const gv = values(size / 4, 4);
      const expected = new Float32Array(size);
      tiledMaxPool2Grad(xv, gv, expected, rows, ow, c);
      const x = tf.tensor(xv);
      const g = tf.tensor(gv);
      const at = (t: tf.Tensor) => heapAddress(backend, t.dataId);
      // The scalar loop for any channel count, the four-channel one where it divides.
      for (const grad of c % 4 === 0 ? [loops.maxPool2Grad, loops.maxPool2Grad4] : [loops.maxPool2Grad]) {
        const out = tf.fill([size], Number.NaN);
        grad(at(x), at(g), at(out), rows, ow, c);
        expect(Array.from(out.dataSync())).toEqual(Array.from(expected));
        out.dispose();
      }
      tf.dispose([x, g]);
    },
  );

  it('copies strided runs with the wasm loop', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as BackendWasm;
    const src = tf.tensor(Float32Array.from({ length: 12 }, (_, i) => i + 1));
    const dst = tf.zeros([10]);
    // 3 runs of 2 floats, every 4th float of src to every 3rd of dst.
    wasmLoops(backend)!.copyRuns(
      heapAddress(backend, dst.dataId),
      heapAddress(backend, src.dataId),
      3,
      8,
      12,
      16,
    );
    expect(Array.from(dst.dataSync())).toEqual([1, 2, 0, 5, 6, 0, 9, 10, 0, 0]);
    // 2 runs of 3 floats, every 2nd float of src from the 1st and the 7th, to every 4th float of dst.
    wasmLoops(backend)!.gatherRuns(
      heapAddress(backend, dst.dataId),
      heapAddress(backend, src.dataId),
      2,
      3,
      16,
      24,
      8,
    );
    expect(Array.from(dst.dataSync())).toEqual([1, 3, 5, 5, 7, 9, 11, 10, 0, 0]);
    tf.dispose([src, dst]);
  });

  it('pads images with one zero row and column as tf.pad does, over a buffer that held other values', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as BackendWasm;
    const shape: [number, number, number, number] = [3, 4, 6, 8];
    const x = tf.tensor4d(values(3 * 4 * 6 * 8, 21), shape);
    const expected = tf.pad(x, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    // NaN where the loop must write: every padded float, zeros included, is the loop's.
    const out = tf.fill(expected.shape, Number.NaN);
    wasmLoops(backend)!.padImages(
      heapAddress(backend, out.dataId),
      heapAddress(backend, x.dataId),
      3,
      4,
      6,
      8,
    );
    expect(out.dataSync()).toEqual(expected.dataSync());
    tf.dispose([x, expected, out]);
  });

  it('Conv2DBackpropFilter matches cpu when the batch is split into im2col chunks', async () => {
    // k * OH * OW = 27 * 32 * 32 floats per image: a batch this size needs at least two chunks.
    const n = Math.floor(MAX_IM2COL_FLOATS / (27 * 32 * 32)) + 3;
    const run = () => {
      const x = tf.tensor4d(values(n * 32 * 32 * 3, 7), [n, 32, 32, 3]);
      const dy = tf.tensor4d(values(n * 32 * 32 * 2, 8), [n, 32, 32, 2]);
      return [
        tf
          .engine()
          .runKernel<tf.Tensor>(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 2] },
          ),
      ];
    };
    const [cpu] = await readOn('cpu', run);
    const [wasm] = await readOn('wasm', run);
    const scale = maxAbs(cpu!);
    expect(scale).toBeGreaterThan(1);
    // Sums of ~3 * 10^5 float32 products in different orders (cpu's running sum is the less exact one):
    // relative agreement.
    expect(maxAbsDiff(cpu!, wasm!)).toBeLessThanOrEqual(1e-4 * scale);
  });

  it('frees every intermediate of a conv + max-pool gradient', async () => {
    await tf.setBackend('wasm');
    const backend = tf.engine().backend;
    const x = tf.tensor4d(values(2 * 6 * 6 * 3, 1), [2, 6, 6, 3]);
    const before = { tensors: tf.memory().numTensors, data: backend.numDataIds() };
    const dw = tf.tidy(() =>
      tf.grad((f: tf.Tensor) =>
        tf.sum(tf.maxPool(tf.relu(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')), 2, 2, 'valid')),
      )(tf.ones([3, 3, 3, 4])),
    );
    expect(dw.shape).toEqual([3, 3, 3, 4]);
    dw.dispose();
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(backend.numDataIds()).toBe(before.data);
    x.dispose();
  });
});
