import * as tf from '@tensorflow/tfjs-core';
// Must stay below the tfjs-core import: see the note in wasmGradients.test.ts.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
// Only for tfjs-layers' BatchNormalization, which is what the trainer's models use.
import * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastBatchNormGradient } from './batchNormGradient';

const TOLERANCE = 1e-5;

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

/** Uniform in [offset - scale, offset + scale), fixed by the seed. */
function fixed(shape: number[], seed: number, scale = 1, offset = 0): tf.Tensor {
  const next = mulberry32(seed);
  const size = shape.reduce((p, d) => p * d, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = offset + (next() * 2 - 1) * scale;
  return tf.tensor(values, shape);
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

/** A loss whose dy is a fixed, non-uniform tensor, so no gradient vanishes by symmetry. */
function weightedSum(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.sum(tf.mul(y, fixed(y.shape, seed)));
}

interface Case {
  readonly name: string;
  /** Gradient names, in the order `run` returns them. */
  readonly grads: readonly string[];
  readonly run: () => tf.Tensor[];
}

/** tf.batchNorm with every argument an independent input: x, mean, variance, offset, scale. */
function independentInputs(xShape: number[], seed: number): Case {
  const channels = xShape[xShape.length - 1]!;
  return {
    name: `batchNorm x=[${xShape}], independent mean/variance`,
    grads: ['x', 'mean', 'variance', 'offset', 'scale'],
    run: () => {
      const x = fixed(xShape, seed, 2, 0.5);
      const mean = fixed([channels], seed + 1, 0.5);
      const variance = fixed([channels], seed + 2, 0.5, 1);
      const offset = fixed([channels], seed + 3);
      const scale = fixed([channels], seed + 4, 0.5, 1);
      const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
        weightedSum(tf.batchNorm(a, m, v, o, s, 1e-3), seed + 5);
      return tf.grads(f)([x, mean, variance, offset, scale]);
    },
  };
}

/** Training-mode normalisation: mean and variance are moments of x, so x's gradient flows through them too. */
function momentsOfX(xShape: number[], seed: number): Case {
  const channels = xShape[xShape.length - 1]!;
  const axes = xShape.slice(0, -1).map((_, i) => i);
  return {
    name: `batchNorm x=[${xShape}], moments of x`,
    grads: ['x', 'offset', 'scale'],
    run: () => {
      const x = fixed(xShape, seed, 2, 0.5);
      const offset = fixed([channels], seed + 3);
      const scale = fixed([channels], seed + 4, 0.5, 1);
      // No case without offset or scale: tfjs-core's tape fails on an undefined kernel input.
      const f = (a: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, axes);
        return weightedSum(tf.batchNorm(a, mean, variance, o, s, 1e-5), seed + 5);
      };
      return tf.grads(f)([x, offset, scale]);
    },
  };
}

/** tfjs-layers' BatchNormalization in training mode, behind a conv, differentiated by tf.variableGrads. */
function layersBatchNorm(seed: number): Case {
  return {
    name: 'tfjs-layers BatchNormalization, training: true',
    grads: ['conv kernel', 'gamma', 'beta'],
    run: () => {
      const input = fixed([4, 7, 6, 3], seed, 1);
      const kernel = tf.variable(fixed([3, 3, 3, 8], seed + 1, 0.5));
      const layer = tfjs.layers.batchNormalization({
        momentum: 0.9,
        epsilon: 1e-5,
        gammaInitializer: tfjs.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed + 2 }),
        betaInitializer: tfjs.initializers.randomUniform({ minval: -1, maxval: 1, seed: seed + 3 }),
      });
      layer.build([4, 7, 6, 8]);
      const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      if (gamma == null || beta == null) throw new Error('BatchNormalization has no gamma/beta');
      const { grads } = tf.variableGrads(() => {
        const h = tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same');
        const y = layer.apply(h, { training: true }) as tf.Tensor;
        return weightedSum(tf.relu(y), seed + 4);
      }, [kernel, gamma, beta]);
      const out = [kernel, gamma, beta].map((v) => grads[v.name]!);
      // layer.dispose() refuses a layer never called symbolically; its weights are all it holds.
      tf.dispose([kernel, ...layer.weights.map((w) => w.read())]);
      return out;
    },
  };
}

const CASES: Case[] = [
  independentInputs([3, 5, 4, 6], 10),
  independentInputs([7, 5], 20),
  independentInputs([2, 3, 9], 25),
  momentsOfX([4, 6, 5, 8], 30),
  momentsOfX([16, 12], 40),
  momentsOfX([64, 8, 8, 16], 50),
  layersBatchNorm(60),
];

function read(c: Case): Float32Array[] {
  const outs = tf.tidy(c.run);
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

describe('fast FusedBatchNorm gradient', () => {
  // The builtin gradient's results, taken before the fast one replaces it (the registry is global).
  const builtin = new Map<string, Float32Array[]>();
  let builtinConfig: tf.GradConfig | undefined;

  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    builtinConfig = tf.getGradient('FusedBatchNorm');
    for (const c of CASES) builtin.set(c.name, read(c));
    registerFastBatchNormGradient();
  });

  it('replaces the builtin gradient, idempotently', () => {
    const fast = tf.getGradient('FusedBatchNorm');
    expect(builtinConfig).toBeDefined();
    expect(fast).not.toBe(builtinConfig);
    registerFastBatchNormGradient();
    expect(tf.getGradient('FusedBatchNorm')).toBe(fast);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('matches the builtin gradient: %s', (_, c) => {
    const expected = builtin.get(c.name)!;
    const actual = read(c);
    expect(actual.length).toBe(c.grads.length);
    const report: Record<string, string> = {};
    c.grads.forEach((name, i) => {
      const scale = maxAbs(expected[i]!);
      const diff = maxAbsDiff(expected[i]!, actual[i]!);
      report[name] = `diff ${diff.toExponential(2)} of max ${scale.toExponential(2)}`;
      // A vanishing gradient would make the comparison vacuous.
      expect(scale, name).toBeGreaterThan(1e-2);
      expect(diff, name).toBeLessThanOrEqual(TOLERANCE);
    });
    console.info(`${c.name}:`, report);
  });

  it('frees everything it allocates', () => {
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(CASES[3]!.run));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('handles a mean of the same rank as x, which the builtin gradient cannot reshape', () => {
    // tfjs-layers takes this path for a BatchNormalization over a non-last axis. Reference: the same problem
    // with channels moved last and rank-1 statistics, which the cases above check against the builtin.
    const [broadcast, channelsLast] = tf.tidy(() => {
      const x = fixed([2, 3, 4, 5], 70, 2, 0.5);
      const mean = fixed([1, 3, 1, 1], 71, 0.5);
      const variance = fixed([1, 3, 1, 1], 72, 0.5, 1);
      // Both offset and scale are given: tfjs-core's tape cannot record a batchNorm without them.
      const offset = fixed([1, 3, 1, 1], 75);
      const scale = fixed([1, 3, 1, 1], 74, 0.5, 1);
      const w = fixed([2, 3, 4, 5], 73);
      const toLast = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]);
      const flat = (t: tf.Tensor) => tf.reshape(t, [3]);
      const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, offset, s), w));
      const fLast = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, flat(offset), s), toLast(w)));
      const got = tf.grads(f)([x, mean, variance, scale]);
      const [dxL, ...dParamsL] = tf.grads(fLast)([toLast(x), flat(mean), flat(variance), flat(scale)]);
      return [got, [tf.transpose(dxL!, [0, 3, 1, 2]), ...dParamsL.map((g) => tf.reshape(g, [1, 3, 1, 1]))]];
    });
    broadcast!.forEach((g, i) => {
      const ref = channelsLast![i]!;
      expect(g.shape).toEqual(ref.shape);
      expect(maxAbs(ref.dataSync() as Float32Array)).toBeGreaterThan(1e-2);
      expect(maxAbsDiff(g.dataSync() as Float32Array, ref.dataSync() as Float32Array)).toBeLessThanOrEqual(
        TOLERANCE,
      );
    });
    tf.dispose([...broadcast!, ...channelsLast!]);
  });
});
