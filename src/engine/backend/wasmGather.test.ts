import * as tf from '@tensorflow/tfjs-core';
// See wasmGradients.test.ts: this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readOn, values } from './kernelTestData';
import { rowGathered, forceJsRowGather } from './wasmGather';
import { registerWasmGradientKernels } from './wasmGradients';

interface Case {
  x: number[];
  indices: number[];
  dtype: 'float32' | 'int32';
  /** Index values, drawn from [0, x[0]) with repeats where not given. */
  table?: number[];
}

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

const CASES: Case[] = [
  // CRD's bank lookup, scaled down: 2-D indices, many repeats.
  { x: [50, 128], indices: [8, 33], dtype: 'float32' },
  { x: [50, 128], indices: [8, 33], dtype: 'int32' },
  // Rows of 5 and 3 floats (not a multiple of 4), 1-D indices, repeated and in any order.
  { x: [10, 5], indices: [7], dtype: 'float32', table: [9, 0, 3, 3, 9, 1, 0] },
  { x: [9, 3], indices: [4, 6], dtype: 'int32' },
  // Rank 1 (one float per row), rank 3 (a row is a [2, 3] slice), a scalar index, the first and last rows.
  { x: [10], indices: [5], dtype: 'float32', table: [2, 3, 2, 9, 0] },
  { x: [6, 2, 3], indices: [4], dtype: 'float32', table: [5, 0, 5, 2] },
  { x: [6, 2, 3], indices: [], dtype: 'int32', table: [4] },
  { x: [1, 7], indices: [3, 1], dtype: 'float32', table: [0, 0, 0] },
];

/** A case's tensors: x of fixed pseudo-random values (integers for int32), indices as given or drawn. */
function inputs(c: Case): { x: tf.Tensor; indices: tf.Tensor } {
  const xv = values(size(c.x), 1);
  const x =
    c.dtype === 'int32'
      ? tf.tensor(
          Int32Array.from(xv, (v) => Math.round(v * 1000)),
          c.x,
          'int32',
        )
      : tf.tensor(xv, c.x);
  const table = c.table ?? Array.from(values(size(c.indices), 2), (v) => Math.floor(((v + 1) / 2) * c.x[0]!));
  return { x, indices: tf.tensor(Int32Array.from(table), c.indices, 'int32') };
}

function gatherCase(c: Case): tf.Tensor[] {
  const { x, indices } = inputs(c);
  const out = tf.gather(x, indices);
  return [out, tf.tensor(out.shape), tf.tensor([out.dtype === c.dtype ? 1 : 0])];
}

describe('wasm GatherV2 by rows', () => {
  beforeAll(() => {
    expect(registerWasmGradientKernels()).toContain('GatherV2');
  });

  afterEach(() => forceJsRowGather(false));

  it.each(CASES)('equals the cpu backend: x $x ($dtype), indices $indices', async (c) => {
    const [cpuOut, cpuShape, cpuType] = await readOn('cpu', () => gatherCase(c));
    for (const js of [false, true]) {
      forceJsRowGather(js);
      const before = rowGathered();
      const [wasmOut, wasmShape, wasmType] = await readOn('wasm', () => gatherCase(c));
      expect(rowGathered() - before).toBe(1);
      expect(Array.from(wasmShape!)).toEqual(Array.from(cpuShape!));
      expect(Array.from(wasmType!)).toEqual(Array.from(cpuType!));
      expect(Array.from(wasmOut!)).toEqual(Array.from(cpuOut!));
    }
  });

  it.each([
    { what: 'axis 1', run: (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i, 1) },
    { what: 'axis -1', run: (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i, -1) },
    {
      what: 'axis 1, 2-D indices',
      run: (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, tf.reshape(i, [2, 2]), 1),
    },
    // wasm's own kernel gets these wrong (tfjs-backend-wasm 4.22): values, and the shape of empty results.
    { what: 'batchDims 1', run: (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, tf.reshape(i, [4, 1]), 1, 1) },
    { what: 'batchDims 1, axis 2', run: (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i, 2, 1) },
    { what: 'axis 0, no indices', run: (x: tf.Tensor) => tf.gather(x, tf.zeros([2, 0], 'int32')) },
    { what: 'an empty axis 2', run: (x: tf.Tensor, i: tf.Tensor) => tf.gather(tf.slice(x, 0, [4, 5, 0]), i) },
  ])('gathers along $what as the cpu backend does', async ({ run }) => {
    const body = () => {
      const x = tf.tensor(values(4 * 5 * 3, 3), [4, 5, 3]);
      const indices = tf.tensor([2, 0, 2, 1], [4], 'int32');
      const out = run(x, indices);
      return [out, tf.tensor(out.shape)];
    };
    const [cpu, cpuShape] = await readOn('cpu', body);
    for (const js of [false, true]) {
      forceJsRowGather(js);
      const before = rowGathered();
      const [wasm, wasmShape] = await readOn('wasm', body);
      expect(rowGathered() - before).toBe(1);
      expect(Array.from(wasmShape!)).toEqual(Array.from(cpuShape!));
      expect(Array.from(wasm!)).toEqual(Array.from(cpu!));
    }
  });

  it("hands bool tensors to wasm's own kernel, with cpu's results", async () => {
    const body = () => {
      const x = tf.tensor([true, false, true, true, false, false], [3, 2], 'bool');
      const out = tf.gather(x, tf.tensor([2, 0, 2], [3], 'int32'));
      return [out, tf.tensor(out.shape)];
    };
    const [cpu, cpuShape] = await readOn('cpu', body);
    const before = rowGathered();
    const [wasm, wasmShape] = await readOn('wasm', body);
    expect(rowGathered() - before).toBe(0);
    expect(Array.from(wasmShape!)).toEqual(Array.from(cpuShape!));
    expect(Array.from(wasm!)).toEqual(Array.from(cpu!));
  });

  it.each([5, -1])('throws as the cpu backend does for the index %i outside [0, 4]', async (bad) => {
    const run = () => tf.gather(tf.tensor(values(5 * 3, 4), [5, 3]), tf.tensor([0, bad, 1], [3], 'int32'));
    const message = `GatherV2: the index value ${bad} is not in [0, 4]`;
    await tf.setBackend('cpu');
    expect(() => tf.tidy(run)).toThrow(message);
    for (const js of [false, true]) {
      forceJsRowGather(js);
      await tf.setBackend('wasm');
      expect(() => tf.tidy(run)).toThrow(message);
    }
  });

  it('leaves nothing behind but its output', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(values(20 * 6, 5), [20, 6]);
    const indices = tf.tensor([[3, 19, 3]], [1, 3], 'int32');
    tf.gather(x, indices).dispose(); // warm-up
    const backend = tf.engine().backend;
    const dataBefore = backend.numDataIds();
    const out = tf.gather(x, indices);
    expect(backend.numDataIds()).toBe(dataBefore + 1);
    out.dispose();
    expect(backend.numDataIds()).toBe(dataBefore);
    tf.dispose([x, indices]);
  });
});
