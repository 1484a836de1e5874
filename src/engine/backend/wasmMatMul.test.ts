import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOn, relativeError, values } from './kernelTestData';
import { registerWasmGradientKernels } from './wasmGradients';
import { rewrittenMatMuls } from './wasmMatMul';

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
  // A batch of one matrix, and an untransposed single product (wasm's own kernel).
  { a: [1, 9, 6], b: [1, 9, 4], transposeA: true, transposeB: false },
  { a: [7, 8], b: [8, 5], transposeA: false, transposeB: false },
  // Sides that divide by 4: the block transpose (AKD's U U^T, a Dense layer's x^T dy), batched too.
  { a: [24, 40], b: [16, 40], transposeA: false, transposeB: true },
  { a: [2, 3, 12, 8], b: [3, 12, 20], transposeA: true, transposeB: false },
  // Columns by 16: the long-inner loop (wasmLongProduct.ts), single, transposed, batched and broadcast.
  { a: [24, 40], b: [40, 32], transposeA: false, transposeB: false },
  { a: [40, 24], b: [40, 16], transposeA: true, transposeB: false },
  { a: [3, 24, 40], b: [3, 40, 32], transposeA: false, transposeB: false },
  { a: [24, 40], b: [3, 40, 32], transposeA: false, transposeB: false },
  // Vectors: transposes that are reshapes, and C^T = B^T A^T where C is a vector.
  { a: [40, 13], b: [40, 1], transposeA: true, transposeB: false },
  { a: [1, 40], b: [13, 40], transposeA: false, transposeB: true },
];

/** Non-square shapes, big enough per matrix (MIN_BATCHED_PRODUCT) for the per-matrix XNNPACK products. */
const [M, K, N] = [19, 33, 17];
const shapeOf = (batch: number[], rows: number, cols: number, transposed: boolean) =>
  transposed ? [...batch, cols, rows] : [...batch, rows, cols];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];
/** Batch 3, 1 against 3 and 3 against 1 (broadcast), and two batch axes against one, each way transposed. */
const BATCHED_CASES: Case[] = [
  [[3], [3]],
  [[1], [3]],
  [[3], [1]],
  [[2, 3], [3]],
  [[], [3]],
].flatMap(([batchA, batchB]) =>
  TRANSPOSES.map(([transposeA, transposeB]) => ({
    a: shapeOf(batchA!, M, K, transposeA),
    b: shapeOf(batchB!, K, N, transposeB),
    transposeA,
    transposeB,
  })),
);

/** Batches of small matrices (left to wasm's own loop) and of vector products. */
const SMALL_BATCHED_CASES: Case[] = [
  { a: [5, 1, 64], b: [5, 64, 1], transposeA: false, transposeB: false },
  { a: [5, 64, 3], b: [5, 64, 2], transposeA: true, transposeB: false },
  { a: [4, 300, 40], b: [4, 300, 1], transposeA: true, transposeB: false },
  { a: [4, 300, 40], b: [4, 40, 1], transposeA: false, transposeB: false },
  { a: [4, 300, 1], b: [4, 40, 1], transposeA: false, transposeB: true },
];

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

describe('wasm BatchMatMul with transposed operands', () => {
  beforeAll(() => {
    expect(registerWasmGradientKernels()).toContain('BatchMatMul');
  });

  it.each([...CASES, ...BATCHED_CASES, ...SMALL_BATCHED_CASES])(
    'equals the cpu backend: a $a (T $transposeA), b $b (T $transposeB)',
    async (c) => {
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
    },
  );

  it.each([
    { a: [24, 40], b: [16, 40] },
    { a: [2, 3, 24, 40], b: [3, 16, 40] },
  ])(
    "transposes sides that divide by 4 to the same bytes as wasm's Transpose: $a x $b^T",
    async ({ a, b }) => {
      // The product of the block-transposed operand equals, bit for bit, the plain product of wasm's own transpose.
      const run = () => {
        const x = tf.tensor(values(size(a), 1), a);
        const y = tf.tensor(values(size(b), 2), b);
        const plainB = tf.transpose(y, b.length === 3 ? [0, 2, 1] : [1, 0]);
        return [tf.matMul(x, y, false, true), tf.matMul(x, plainB)];
      };
      const [ours, reference] = await readOn('wasm', run);
      expect(ours).toEqual(reference);
    },
  );

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

  it.each(TRANSPOSES)(
    "gives a batched matMul's gradients as the cpu backend does (T %s, T %s)",
    async (tA, tB) => {
      // The backward pass of a batched product asks for batched products transposed every way (RKD's angles).
      const run = () => {
        const a = tf.tensor(values(4 * M * K, 3), shapeOf([4], M, K, tA));
        const b = tf.tensor(values(4 * K * N, 4), shapeOf([4], K, N, tB));
        const w = tf.tensor(values(4 * M * N, 5), [4, M, N]);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(w, tf.matMul(x, y, tA, tB))))(
          [a, b],
        );
        return [ga!, gb!];
      };
      const cpu = await readOn('cpu', run);
      const wasm = await readOn('wasm', run);
      cpu.forEach((expected, i) => expect(relativeError(wasm[i]!, expected)).toBeLessThan(1e-6));
    },
  );

  it.each([
    { a: [3, M, K], b: [3, K, N], rewritten: true },
    { a: [M, K], b: [3, K, N], rewritten: true },
    // Too little work per matrix, too few rows, a matrix-vector product, both sides broadcast: wasm's loop.
    { a: [64, 1, 1024], b: [64, 1024, 1], rewritten: false },
    { a: [3, 4, 256], b: [3, 256, 64], rewritten: false },
    { a: [3, 300, 40], b: [3, 40, 1], rewritten: false },
    { a: [2, 1, M, K], b: [1, 3, K, N], rewritten: false },
  ])("takes XNNPACK products or wasm's own loop for a $a by b $b", async ({ a, b, rewritten }) => {
    await tf.setBackend('wasm');
    const before = rewrittenMatMuls();
    tf.tidy(() => tf.matMul(tf.tensor(values(size(a), 1), a), tf.tensor(values(size(b), 2), b)));
    expect(rewrittenMatMuls() - before).toBe(rewritten ? 1 : 0);
  });

  it('frees its transposed copies and per-matrix products', async () => {
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
    // A batch, transposed: one output, nothing else left behind.
    const c = tf.tensor3d(values(3 * M * K, 8), [3, K, M]);
    const d = tf.tensor3d(values(3 * K * N, 9), [3, N, K]);
    tf.matMul(c, d, true, true).dispose();
    const batchedBefore = backend.numDataIds();
    const batched = tf.matMul(c, d, true, true);
    expect(backend.numDataIds()).toBe(batchedBefore + 1);
    batched.dispose();
    expect(backend.numDataIds()).toBe(batchedBefore);
    tf.dispose([c, d]);
  });
});
