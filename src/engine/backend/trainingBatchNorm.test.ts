import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelSums,
  heapChannelSums,
  installTrainingBatchNorm,
  movingAverage,
  uninstallTrainingBatchNorm,
} from './trainingBatchNorm';
import { registerWasmGradientKernels } from './wasmGradients';

/** Uniform in [lo, hi) from a fixed linear congruential sequence. */
function values(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return lo + (a / 4294967296) * (hi - lo);
  });
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Number.isNaN(v - b[i]!) ? Infinity : Math.abs(v - b[i]!)), 0);
};
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** A BatchNorm layer with non-trivial weights and moving statistics, the same on every backend. */
function layer(channels: number): tf.layers.Layer {
  const bn = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
  bn.build([null, 5, 5, channels]);
  bn.setWeights([
    tf.tensor1d(values(channels, 1, 0.5, 1.5)),
    tf.tensor1d(values(channels, 2, -0.3, 0.3)),
    tf.tensor1d(values(channels, 3, -0.2, 0.2)),
    tf.tensor1d(values(channels, 4, 0.5, 2)),
  ]);
  return bn;
}

/**
 * Training calls: y, the gradients of a weighted sum of y for x, gamma and beta, and the moving statistics after
 * the three calls.
 */
async function trainingCall(backendName: string, shape: [number, number, number, number]) {
  expect(await tf.setBackend(backendName)).toBe(true);
  const bn = layer(shape[3]);
  const x = tf.tensor4d(
    values(
      shape.reduce((p, d) => p * d),
      7,
      -2,
      3,
    ),
    shape,
  );
  const weights = tf.tensor4d(values(x.size, 8), shape);
  const f = (xs: tf.Tensor) => tf.sum(tf.mul(bn.apply(xs, { training: true }) as tf.Tensor, weights));
  const y = tf.tidy(() => bn.apply(x, { training: true }) as tf.Tensor);
  const { grads } = tf.variableGrads(
    () => f(x) as tf.Scalar,
    [bn.weights[0]!.read() as tf.Variable, bn.weights[1]!.read() as tf.Variable],
  );
  const dx = tf.grad(f)(x);
  const out = [y, dx, ...Object.values(grads), ...bn.weights.slice(2).map((w) => w.read())].map(
    (t) => t.dataSync() as Float32Array,
  );
  tf.dispose([x, weights, y, dx, ...Object.values(grads)]);
  bn.weights.forEach((w) => w.dispose());
  return out;
}

describe('fused BatchNormalization training call on wasm', () => {
  beforeAll(async () => {
    registerWasmGradientKernels();
    await tf.setBackend('wasm');
    await tf.ready();
    installTrainingBatchNorm();
  });
  afterAll(() => {
    uninstallTrainingBatchNorm();
  });

  // [3, 10, 10, 6]: 300 rows (two blocks of the per-channel sums) over 4 + 2 channels (both loops).
  it.each([[[4, 5, 5, 8]], [[16, 6, 3, 3]], [[3, 10, 10, 6]]] as [[number, number, number, number]][])(
    'gives cpu their y, x/gamma/beta gradients and moving statistics: %j',
    async (shape) => {
      const cpu = await trainingCall('cpu', shape);
      const wasm = await trainingCall('wasm', shape);
      const names = ['y', 'dx', 'dgamma', 'dbeta', 'moving mean', 'moving variance'];
      names.forEach((name, i) => {
        const scale = maxAbs(cpu[i]!);
        expect(scale, name).toBeGreaterThan(1e-3);
        expect(maxAbsDiff(cpu[i]!, wasm[i]!), name).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      });
    },
  );

  it.each(['cpu', 'wasm'])(
    "moves the averages with tfjs-layers' float32 arithmetic, bit for bit (%s)",
    async (backend) => {
      expect(await tf.setBackend(backend)).toBe(true);
      const previous = values(64, 11);
      const batch = Float32Array.from(values(64, 12), (v) => v * 3);
      for (const momentum of [0.9, 0.99, 0.1, 0]) {
        const ours = movingAverage(previous, batch, momentum);
        const layers = tf.tidy(() => {
          const p = tf.tensor1d(previous);
          return tf.sub(p, tf.mul(tf.sub(p, tf.tensor1d(batch)), 1 - momentum));
        });
        expect(ours.dataSync()).toEqual(layers.dataSync());
        tf.dispose([ours, layers]);
      }
    },
  );

  it.each([
    [700, 13],
    [300, 16],
    [5, 3],
  ])(
    'per-channel sums by the wasm loop equal the JS loop bit for bit (%i rows, %i channels)',
    async (rows, ch) => {
      expect(await tf.setBackend('wasm')).toBe(true);
      const a = tf.tensor2d(values(rows * ch, 5), [rows, ch]);
      const b = tf.tensor2d(values(rows * ch, 6), [rows, ch]);
      const shift = Float64Array.from(values(ch, 7));
      const js = [
        channelSums(a.dataSync() as Float32Array, ch),
        channelSums(a.dataSync() as Float32Array, ch, b.dataSync() as Float32Array, shift),
      ];
      const wasm = [heapChannelSums(a, ch), heapChannelSums(a, ch, b, shift)];
      for (let i = 0; i < 2; i++) {
        expect(Array.from(wasm[i]!.first)).toEqual(Array.from(js[i]!.first));
        expect(Array.from(wasm[i]!.second)).toEqual(Array.from(js[i]!.second));
      }
      tf.dispose([a, b]);
    },
  );

  it('replaces the moments graph on wasm (and only when installed)', async () => {
    await tf.setBackend('wasm');
    const bn = layer(4);
    const x = tf.tensor4d(values(2 * 5 * 5 * 4, 3), [2, 5, 5, 4]);
    const kernelsOf = async () => {
      const info = await tf.profile(() =>
        tf.grad((t: tf.Tensor) => tf.sum(bn.apply(t, { training: true }) as tf.Tensor))(x),
      );
      return new Set(info.kernels.map((k) => k.name));
    };
    const fused = await kernelsOf();
    uninstallTrainingBatchNorm();
    const original = await kernelsOf();
    installTrainingBatchNorm();
    expect(original.has('Square')).toBe(true);
    expect(fused.has('Square')).toBe(false);
    expect(fused.has('Mean')).toBe(false);
    expect(fused.has('FusedBatchNorm')).toBe(false);
    // 4 channels: the affine passes are the wasm loop's (wasmChannelAffine.ts), not a kernel.
    expect(fused.has('FusedDepthwiseConv2D')).toBe(false);
    expect(original.has('FusedBatchNorm')).toBe(true);
    x.dispose();
    bn.weights.forEach((w) => w.dispose());
  });

  it('trains a small conv + BatchNorm model on the same trajectory as cpu, leaking nothing', async () => {
    const build = () => {
      const input = tf.input({ shape: [6, 6, 3] });
      let h = tf.layers
        .conv2d({
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        })
        .apply(input) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization({ momentum: 0.9 }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
      h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
      const out = tf.layers
        .dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })
        .apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    };
    const train = async (backendName: string) => {
      await tf.setBackend(backendName);
      const model = build();
      const x = tf.tensor4d(values(8 * 6 * 6 * 3, 11), [8, 6, 6, 3]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
      const opt = tf.train.sgd(0.1);
      const initial = model.getWeights().map((w) => w.dataSync() as Float32Array);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 3; step++) {
        const loss = opt.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
        );
        loss?.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      tf.dispose([x, y]);
      opt.dispose();
      model.dispose();
      return { initial, weights };
    };
    const cpu = await train('cpu');
    const wasm = await train('wasm');
    cpu.weights.forEach((w, i) =>
      expect(maxAbsDiff(w, wasm.weights[i]!), `weight ${i}`).toBeLessThanOrEqual(1e-4),
    );
    // Every weight moved (conv kernel, gamma, beta, moving statistics, dense), so the comparison says something.
    cpu.weights.forEach((w, i) =>
      expect(maxAbsDiff(w, cpu.initial[i]!), `weight ${i} moved`).toBeGreaterThan(1e-3),
    );
  });
});
