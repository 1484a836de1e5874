import * as tf from '@tensorflow/tfjs-core';
// Under Node, tfjs-core resolves to its CJS bundle while these dist files are a second, ESM copy of it. The
// copy that loads first provides the global Tensor class, and the ESM copy's Tensor has no op handler
// (Cast's gradient then fails on dy.clone()), so this import must stay below the tfjs-core one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { axisPhases } from './convInputGradPhases';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { composite } from './kernelScope';
import { wasmLoops } from './wasmLoops';
import { longProducts } from './wasmLongProduct';
import { flippedSwappedFilter, registerWasmGradientKernels } from './wasmGradients';

const TOLERANCE = 1e-4;

type Backend = 'cpu' | 'wasm';
type Pad =
  'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

async function switchBackend(name: Backend): Promise<void> {
  const ok = await tf.setBackend(name);
  // setBackend can leave getBackend() naming a backend that failed to initialise; only the return value counts.
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  expect(tf.getBackend()).toBe(name);
}

/** Runs `fn` on a backend and reads its tensors back, so results of the two backends can be compared. */
async function readOn(name: Backend, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await switchBackend(name);
  const outs = tf.tidy(fn);
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [-scale, scale), fixed by the seed. */
function fixedValues(size: number, seed: number, scale: number): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN));
    // NaN must fail the comparison, which Math.max would not guarantee.
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    max = Math.max(max, d);
  }
  return max;
}

function maxAbs(a: Float32Array): number {
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v));
  return max;
}

// ---- A small CNN written with ops, covering what the trainer's nets use. -------------------------------

const BATCH = 3;
const INPUT: [number, number, number, number] = [BATCH, 23, 23, 3];
const CLASSES = 5;

const PARAM_SHAPES: Record<string, number[]> = {
  convA: [3, 3, 3, 6],
  biasA: [6],
  convB: [4, 4, 6, 8],
  biasB: [8],
  gamma: [8],
  beta: [8],
  depthwise: [3, 3, 8, 2],
  convC: [3, 3, 16, 12],
  biasC: [12],
  convD: [2, 2, 12, 10],
  dense: [40, CLASSES],
  biasDense: [CLASSES],
};
const PARAM_NAMES = Object.keys(PARAM_SHAPES);

function initialParams(): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  PARAM_NAMES.forEach((name, i) => {
    const shape = PARAM_SHAPES[name]!;
    const size = shape.reduce((p, d) => p * d, 1);
    // He-like scale keeps activations O(1) so an absolute tolerance is meaningful at every layer.
    const fanIn = shape.length > 1 ? size / shape[shape.length - 1]! : 0;
    const scale = name === 'gamma' ? 0.2 : fanIn > 0 ? Math.sqrt(6 / fanIn) : 0.1;
    const values = fixedValues(size, 1000 + i, scale);
    if (name === 'gamma') for (let j = 0; j < size; j++) values[j] = 1 + (values[j] ?? 0);
    out[name] = values;
  });
  return out;
}

const INPUT_VALUES = fixedValues(
  INPUT.reduce((p, d) => p * d, 1),
  7,
  1,
);
const LABELS = Array.from({ length: BATCH }, (_, i) => (i * 2 + 1) % CLASSES);

function logits(x: tf.Tensor4D, p: Record<string, tf.Tensor>): tf.Tensor2D {
  const w = (name: string) => p[name] as tf.Tensor4D;
  let h: tf.Tensor4D = tf.relu(tf.add(tf.conv2d(x, w('convA'), 1, 'same'), p.biasA!));
  // Fused conv has its own gradient path (bias + activation) through Conv2DBackpropFilter.
  h = tf.fused.conv2d({
    x: h,
    filter: w('convB'),
    strides: 2,
    pad: 'same',
    bias: p.biasB,
    activation: 'relu',
  });
  h = tf.avgPool(h, 3, 1, 'same');
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.batchNorm4d(
    h,
    mean as tf.Tensor1D,
    variance as tf.Tensor1D,
    p.beta as tf.Tensor1D,
    p.gamma as tf.Tensor1D,
    1e-3,
  );
  h = tf.relu(tf.depthwiseConv2d(h, w('depthwise'), 1, 'same'));
  h = tf.relu(tf.add(tf.conv2d(h, w('convC'), 2, 'valid'), p.biasC!));
  h = tf.maxPool(h, 2, 2, 'same');
  h = tf.relu(tf.conv2d(h, w('convD'), 1, 'valid'));
  const flat = tf.reshape(h, [BATCH, -1]);
  return tf.add(tf.matMul(flat, p.dense as tf.Tensor2D), p.biasDense!);
}

function loss(x: tf.Tensor4D, p: Record<string, tf.Tensor>): tf.Scalar {
  const onehot = tf.oneHot(tf.tensor1d(LABELS, 'int32'), CLASSES);
  return tf.losses.softmaxCrossEntropy(onehot, logits(x, p)) as tf.Scalar;
}

function paramTensors(values: Record<string, Float32Array>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const name of PARAM_NAMES) out[name] = tf.tensor(values[name]!, PARAM_SHAPES[name]);
  return out;
}

/** Loss and gradients w.r.t. the input and every parameter, in PARAM_NAMES order after the input. */
function lossAndGrads(): tf.Tensor[] {
  const params = paramTensors(initialParams());
  const x = tf.tensor4d(INPUT_VALUES, INPUT);
  const inputs = [x, ...PARAM_NAMES.map((n) => params[n]!)];
  const f = (...ts: tf.Tensor[]) => {
    const p: Record<string, tf.Tensor> = {};
    PARAM_NAMES.forEach((n, i) => {
      p[n] = ts[i + 1]!;
    });
    return loss(ts[0] as tf.Tensor4D, p);
  };
  const { value, grads } = tf.valueAndGrads(f)(inputs);
  return [value, ...grads];
}

// ---- Kernel-level comparisons ---------------------------------------------------------------------------

interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [
  { x: [1, 5, 5, 1], filter: [3, 3, 1, 1], strides: 1, pad: 'same' },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [3, 8, 8, 2], filter: [3, 3, 2, 5], strides: 2, pad: 'valid' },
  { x: [2, 9, 6, 3], filter: [2, 3, 3, 4], strides: [2, 1], pad: 'same' },
  { x: [2, 10, 10, 3], filter: [4, 4, 3, 2], strides: 2, pad: 'same' },
  { x: [2, 11, 11, 4], filter: [5, 5, 4, 3], strides: 2, pad: 'same' },
  { x: [2, 11, 11, 4], filter: [1, 1, 4, 3], strides: 2, pad: 'valid' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 2], strides: 3, pad: 'valid' },
  { x: [2, 7, 9, 3], filter: [3, 2, 3, 2], strides: 3, pad: 'same' },
  { x: [4, 6, 6, 3], filter: [3, 3, 3, 6], strides: 1, pad: 'valid' },
  {
    x: [2, 8, 7, 2],
    filter: [3, 3, 2, 3],
    strides: 2,
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { x: [2, 6, 6, 2], filter: [3, 3, 2, 3], strides: 1, pad: 1 },
  // Pads wider than the kernel: some outputs see only padding.
  {
    x: [2, 6, 7, 2],
    filter: [3, 3, 2, 3],
    strides: 2,
    pad: [
      [0, 0],
      [3, 1],
      [0, 4],
      [0, 0],
    ],
  },
];

/** Extra cases for Conv2DBackpropInput, which replaces a kernel wasm ships and so sees every conv layer. */
const INPUT_CASES: ConvCase[] = [
  ...CONV_CASES,
  { x: [2, 16, 16, 16], filter: [3, 3, 16, 32], strides: 1, pad: 'same' },
  { x: [3, 9, 9, 8], filter: [3, 3, 8, 4], strides: 2, pad: 'same' },
  { x: [2, 8, 8, 8], filter: [1, 1, 8, 16], strides: 2, pad: 'same' },
  { x: [2, 7, 10, 3], filter: [3, 3, 3, 5], strides: [1, 2], pad: 'valid' },
  { x: [1, 13, 11, 5], filter: [5, 3, 5, 7], strides: 1, pad: 2 },
  // Strided dx by phases (convInputGradPhases.ts): ResNet's 3x3 and 1x1 shortcut convs at stride 2, odd
  // sizes, unequal strides, a stride above the kernel size (phases no kernel row reaches).
  { x: [2, 8, 8, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { x: [2, 8, 8, 4], filter: [1, 1, 4, 6], strides: 2, pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 4], strides: [2, 1], pad: 1 },
  { x: [2, 11, 10, 3], filter: [2, 2, 3, 4], strides: 3, pad: 'same' },
  { x: [1, 12, 12, 40], filter: [3, 3, 40, 5], strides: 2, pad: 'valid' },
];

function caseName(c: ConvCase): string {
  return `x=[${c.x}] f=[${c.filter}] s=${JSON.stringify(c.strides)} pad=${JSON.stringify(c.pad)}`;
}

function convOutShape(c: ConvCase, depthwise: boolean): number[] {
  const outChannels = depthwise ? c.filter[2] * c.filter[3] : c.filter[3];
  return tf.backend_util
    .computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, undefined, depthwise)
    .outShape.slice(0, 3)
    .concat(outChannels);
}

function sizeOf(shape: number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function runConv2DBackpropFilter(c: ConvCase, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): tf.Tensor {
  const dyShape = convOutShape(c, false);
  const x = tf.tensor4d(fixedValues(sizeOf(c.x), 11, 1), c.x);
  const dy = tf.tensor(fixedValues(sizeOf(dyShape), 12, 1), dyShape);
  return tf
    .engine()
    .runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      { strides: c.strides, pad: c.pad, dataFormat, filterShape: c.filter },
    );
}

function runConv2DBackpropInput(c: ConvCase): tf.Tensor {
  const dyShape = convOutShape(c, false);
  const filter = tf.tensor4d(fixedValues(sizeOf(c.filter), 13, 1), c.filter);
  const dy = tf.tensor(fixedValues(sizeOf(dyShape), 14, 1), dyShape);
  return tf
    .engine()
    .runKernel(
      'Conv2DBackpropInput',
      { dy, filter },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
    );
}

describe('wasm gradient kernels', () => {
  let registered: string[] = [];

  beforeAll(async () => {
    registered = registerWasmGradientKernels();
    await switchBackend('wasm');
  });

  it('registers the missing backward kernels once', () => {
    expect(registered).toEqual(
      expect.arrayContaining([
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'MaxPoolGrad',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'Sum',
        'Mean',
        'Identity',
        'Cast',
      ]),
    );
    expect(registerWasmGradientKernels()).toEqual(registered);
    for (const name of registered) expect(tf.getKernel(name, 'wasm')).toBeDefined();
    // AvgPoolGrad comes with the wasm backend; this guards the assumption that it needs no help.
    expect(tf.getKernel('AvgPoolGrad', 'wasm')).toBeDefined();
  });

  it("swaps wasm's own Conv2DBackpropInput out, also after wasm re-registers it", () => {
    const ours = tf.getKernel('Conv2DBackpropInput', 'wasm')!;
    // Stands in for wasm's module registering its kernel again over ours.
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ ...ours, kernelFunc: () => tf.zeros([1]) });
    expect(registerWasmGradientKernels()).toEqual(registered);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(ours.kernelFunc);
  });

  it.each(INPUT_CASES)('Conv2DBackpropInput matches cpu: %s', async (c) => {
    const [cpu] = await readOn('cpu', () => [runConv2DBackpropInput(c)]);
    const [wasm] = await readOn('wasm', () => [runConv2DBackpropInput(c)]);
    expect(maxAbs(cpu!), caseName(c)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(cpu!, wasm!), caseName(c)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('splits a strided dx into phases', () => {
    // 3x3, stride 2, 'same' on 32 -> 16 (pad 0 before): even rows from kernel rows 2 and 0, odd rows from 1.
    expect(axisPhases(3, 2, 32, 16, 0)).toEqual([
      { a: 0, taps: [2, 0], first: 0, count: 16, padBefore: 1, padAfter: 0, skip: 0, outCount: 16 },
      { a: 1, taps: [1], first: 0, count: 16, padBefore: 0, padAfter: 0, skip: 0, outCount: 16 },
    ]);
    // 1x1 at stride 2: odd rows get no kernel row.
    expect(axisPhases(1, 2, 32, 16, 0).map((p) => p.taps)).toEqual([[0], []]);
    // Pad 3 before a 3-row kernel, 6 -> 5 at stride 2: dy's first row reaches only padding, and so does its
    // last one for the odd rows; the phase outputs they give are dropped.
    expect(axisPhases(3, 2, 6, 5, 3).map((p) => [p.skip, p.count, p.outCount])).toEqual([
      [1, 3, 4],
      [1, 3, 5],
    ]);
  });

  it.each([
    [3, 3, 16, 32],
    [3, 3, 64, 64],
    [1, 1, 8, 16],
    [3, 3, 3, 16],
    [5, 3, 5, 7],
  ])(
    "builds dx's flipped, channel-swapped filter byte for byte as Reverse + Transpose did: [%i, %i, %i, %i]",
    async (...shape) => {
      await switchBackend('wasm');
      // Channels by 4 take the wasm module's block transpose: it must be there to be tested.
      if (shape[2]! % 4 === 0 && shape[3]! % 4 === 0)
        expect(wasmLoops(tf.backend() as BackendWasm)).not.toBeNull();
      const filter = tf.tensor4d(fixedValues(sizeOf(shape), 15, 1), shape);
      const info = composite(tf.backend(), (s) => flippedSwappedFilter(s, filter));
      const ours = tf.engine().makeTensorFromTensorInfo(info);
      const before = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
      expect(ours.shape).toEqual(before.shape);
      // Data moved, not computed: equal bit for bit (toEqual on the float arrays).
      expect(ours.dataSync()).toEqual(before.dataSync());
      tf.dispose([filter, ours, before]);
    },
  );

  it('rejects NCHW in Conv2DBackpropInput with a clear error', async () => {
    await switchBackend('wasm');
    const c = CONV_CASES[1]!;
    const run = () =>
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        {
          dy: tf.zeros(convOutShape(c, false)),
          filter: tf.zeros(c.filter),
        },
        { strides: c.strides, pad: c.pad, dataFormat: 'NCHW', inputShape: c.x },
      );
    expect(() => tf.tidy(run)).toThrow(/NHWC/);
  });

  interface ReduceCase {
    shape: number[];
    axis: number | number[];
    keepDims: boolean;
    dtype?: 'float32' | 'int32';
  }

  const REDUCE_CASES: ReduceCase[] = [
    // Per-channel statistics of NHWC maps: the depthwise path.
    { shape: [64, 8, 8, 16], axis: [0, 1, 2], keepDims: false },
    { shape: [32, 9, 7, 24], axis: [2, 0, 1], keepDims: true },
    { shape: [16, 12, 10, 3, 4], axis: [0, 1, 2], keepDims: false },
    { shape: [8, 40, 64], axis: [-3, -2], keepDims: false },
    { shape: [16, 16, 16, 8], axis: [0, 1], keepDims: true },
    // wasm's own kernel: one leading axis, inner axes, every axis, too small, int32.
    { shape: [512, 64], axis: 0, keepDims: false },
    { shape: [16, 16, 16, 8], axis: [1, 2], keepDims: false },
    { shape: [16, 16, 16, 8], axis: [0, 1, 2, 3], keepDims: false },
    { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: true },
    { shape: [32, 16, 16, 4], axis: [0, 1, 2], keepDims: false, dtype: 'int32' },
  ];

  it.each(REDUCE_CASES)('Sum and Mean match cpu: %j', async (c) => {
    const run = () => {
      // Off-centre, so that no mean is near zero.
      const values = fixedValues(sizeOf(c.shape), 31, 1).map((v) => v + 0.25);
      const x =
        c.dtype === 'int32'
          ? tf.tensor(
              values.map((v) => Math.round(v * 100)),
              c.shape,
              'int32',
            )
          : tf.tensor(values, c.shape);
      return [tf.sum(x, c.axis, c.keepDims), tf.mean(x, c.axis, c.keepDims)];
    };
    const cpu = await readOn('cpu', run);
    const wasm = await readOn('wasm', run);
    const shapes = await readOn('wasm', () => run().map((t) => tf.tensor(t.shape)));
    const cpuShapes = await readOn('cpu', () => run().map((t) => tf.tensor(t.shape)));
    expect(shapes).toEqual(cpuShapes);
    for (let i = 0; i < 2; i++) {
      const scale = maxAbs(cpu[i]!);
      expect(scale).toBeGreaterThan(0.01);
      // Float32 sums of ~10^4 terms in a different order: relative, not absolute, agreement.
      expect(maxAbsDiff(cpu[i]!, wasm[i]!), i === 0 ? 'sum' : 'mean').toBeLessThanOrEqual(
        1e-5 * Math.max(1, scale),
      );
    }
  });

  it('reduces leading axes with a depthwise conv or, channels by 16, the long-inner loop, freeing what it allocates', async () => {
    await switchBackend('wasm');
    const depthwise = tf.getKernel('DepthwiseConv2dNative', 'wasm')!;
    let calls = 0;
    tf.unregisterKernel('DepthwiseConv2dNative', 'wasm');
    tf.registerKernel({
      ...depthwise,
      kernelFunc: (args) => {
        calls++;
        return depthwise.kernelFunc(args);
      },
    });
    try {
      const x = tf.tensor4d(fixedValues(64 * 8 * 8 * 12, 32, 1), [64, 8, 8, 12]);
      const backend = tf.engine().backend;
      const dataBefore = backend.numDataIds();
      tf.dispose([tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2], true)]);
      expect(calls).toBe(2);
      tf.dispose(tf.sum(x, [3]));
      expect(calls).toBe(2);
      expect(backend.numDataIds()).toBe(dataBefore);
      x.dispose();
      // 16 channels: per image, a row of ones (or 1/(A B) for Mean) times [B, C] by the loop, no depthwise conv.
      const y = tf.tensor4d(fixedValues(64 * 8 * 8 * 16, 33, 1), [64, 8, 8, 16]);
      const loopsBefore = longProducts();
      tf.dispose([tf.sum(y, [0, 1, 2]), tf.mean(y, [0, 1, 2], true)]);
      expect(calls).toBe(2);
      expect(longProducts() - loopsBefore).toBe(2 * 64);
      // x is gone and y is here: the same count as before x.
      expect(backend.numDataIds()).toBe(dataBefore);
      y.dispose();
    } finally {
      tf.unregisterKernel('DepthwiseConv2dNative', 'wasm');
      tf.registerKernel(depthwise);
    }
  });

  it('clones and same-dtype casts share data instead of copying it', async () => {
    await switchBackend('wasm');
    const backend = tf.engine().backend;
    const x = tf.tensor2d([1.5, -2.25, 3, 4.75], [2, 2]);
    const dataBefore = backend.numDataIds();
    const clone = tf.clone(x);
    const same = tf.cast(x, 'float32');
    expect(backend.numDataIds()).toBe(dataBefore);
    const asInt = tf.cast(x, 'int32');
    expect(backend.numDataIds()).toBe(dataBefore + 1);
    x.dispose();
    // The shared data outlives the tensor it came from.
    expect(Array.from(clone.dataSync())).toEqual([1.5, -2.25, 3, 4.75]);
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.25, 3, 4.75]);
    expect(asInt.dtype).toBe('int32');
    expect(Array.from(asInt.dataSync())).toEqual([1, -2, 3, 4]);
    tf.dispose([clone, same, asInt]);
    expect(backend.numDataIds()).toBe(dataBefore - 1);
  });

  it.each(CONV_CASES)('Conv2DBackpropFilter matches cpu: %s', async (c) => {
    const [cpu] = await readOn('cpu', () => [runConv2DBackpropFilter(c)]);
    const [wasm] = await readOn('wasm', () => [runConv2DBackpropFilter(c)]);
    const diff = maxAbsDiff(cpu!, wasm!);
    expect(maxAbs(cpu!), caseName(c)).toBeGreaterThan(0.1);
    expect(diff, caseName(c)).toBeLessThanOrEqual(TOLERANCE);
  });

  // Depthwise filters are [kh, kw, C, multiplier]; alternate multipliers 1 and 2.
  const depthwiseCases = CONV_CASES.map((c, i) => ({
    ...c,
    filter: [c.filter[0], c.filter[1], c.x[3], 1 + (i % 2)] as ConvCase['filter'],
  }));

  it.each(depthwiseCases)('depthwise backprop filter and input match cpu: %s', async (c) => {
    const run = () => {
      const x = tf.tensor4d(fixedValues(sizeOf(c.x), 21, 1), c.x);
      const filter = tf.tensor4d(fixedValues(sizeOf(c.filter), 22, 1), c.filter);
      const dyShape = convOutShape(c, true);
      const dy = tf.tensor(fixedValues(sizeOf(dyShape), 23, 1), dyShape);
      const common = { strides: c.strides, pad: c.pad, dilations: 1 };
      return [
        tf.engine().runKernel<tf.Tensor>(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          {
            ...common,
            filterShape: c.filter,
          },
        ),
        tf.engine().runKernel<tf.Tensor>(
          'DepthwiseConv2dNativeBackpropInput',
          { dy, filter },
          {
            ...common,
            inputShape: c.x,
          },
        ),
      ];
    };
    const cpu = await readOn('cpu', run);
    const wasm = await readOn('wasm', run);
    for (let i = 0; i < 2; i++) {
      const what = `${i === 0 ? 'filter' : 'input'} ${caseName(c)}`;
      expect(maxAbs(cpu[i]!), what).toBeGreaterThan(0.1);
      expect(maxAbsDiff(cpu[i]!, wasm[i]!), what).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('rejects NCHW with a clear error', async () => {
    await switchBackend('wasm');
    expect(() => tf.tidy(() => runConv2DBackpropFilter(CONV_CASES[1]!, 'NCHW'))).toThrow(/NHWC/);
  });

  it('frees every intermediate it allocates', async () => {
    await switchBackend('wasm');
    const wasmBackend = tf.engine().backend;
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = wasmBackend.numDataIds();
    tf.dispose(tf.tidy(lossAndGrads));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(wasmBackend.numDataIds()).toBe(dataBefore);
  });

  it('gives the same CNN loss gradients as cpu, for the input and every weight', async () => {
    const cpu = await readOn('cpu', lossAndGrads);
    const wasm = await readOn('wasm', lossAndGrads);
    const names = ['loss', 'input', ...PARAM_NAMES];
    expect(wasm.length).toBe(names.length);
    const report: Record<string, string> = {};
    names.forEach((name, i) => {
      const scale = maxAbs(cpu[i]!);
      const diff = maxAbsDiff(cpu[i]!, wasm[i]!);
      report[name] = `diff ${diff.toExponential(2)} of max ${scale.toExponential(2)}`;
      // A vanishing gradient would make the comparison vacuous.
      expect(scale, name).toBeGreaterThan(1e-3);
      expect(diff, name).toBeLessThanOrEqual(TOLERANCE);
    });
    console.info('wasm vs cpu gradients:', report);
  });

  it('follows the same SGD trajectory as cpu', async () => {
    const train = () => {
      const init = initialParams();
      const vars = PARAM_NAMES.map((n) => tf.variable(tf.tensor(init[n]!, PARAM_SHAPES[n])));
      const p: Record<string, tf.Tensor> = {};
      PARAM_NAMES.forEach((n, i) => {
        p[n] = vars[i]!;
      });
      const x = tf.tensor4d(INPUT_VALUES, INPUT);
      const opt = tf.train.sgd(0.05);
      for (let step = 0; step < 3; step++) opt.minimize(() => loss(x, p));
      opt.dispose();
      const out = vars.map((v) => v.clone());
      tf.dispose(vars);
      return out;
    };
    const cpu = await readOn('cpu', train);
    const wasm = await readOn('wasm', train);
    PARAM_NAMES.forEach((name, i) => {
      expect(maxAbsDiff(cpu[i]!, wasm[i]!), name).toBeLessThanOrEqual(TOLERANCE);
    });
    // The weights must actually have moved, or the comparison says nothing about the gradients.
    expect(maxAbsDiff(cpu[PARAM_NAMES.indexOf('convA')]!, initialParams().convA!)).toBeGreaterThan(1e-3);
  });

  it('reduces the loss with Adam on wasm', async () => {
    await switchBackend('wasm');
    const init = initialParams();
    const vars = PARAM_NAMES.map((n) => tf.variable(tf.tensor(init[n]!, PARAM_SHAPES[n])));
    const p: Record<string, tf.Tensor> = {};
    PARAM_NAMES.forEach((n, i) => {
      p[n] = vars[i]!;
    });
    const x = tf.tensor4d(INPUT_VALUES, INPUT);
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) {
      const l = opt.minimize(() => loss(x, p), true);
      losses.push((await l!.data())[0]!);
      l!.dispose();
    }
    opt.dispose();
    tf.dispose([...vars, x]);
    const first = losses[0]!;
    const last = losses[losses.length - 1]!;
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first * 0.5);
  });
});
