import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { findPreset } from '../models/presets';
import { freezeTeacher } from './frozenTeacher';
import { kdLoss } from './losses';
import { stopGradient } from './method';

/** Uniform in [lo, hi) from a fixed linear congruential sequence. */
function values(size: number, seed: number, lo: number, hi: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return lo + (a / 4294967296) * (hi - lo);
  });
}

/**
 * Gives every BatchNorm layer statistics and affine weights far from their initial 0/1, so that a fold that
 * dropped or misplaced any of them would change the outputs.
 */
function perturbBatchNorms(model: tf.LayersModel): void {
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'BatchNormalization') return;
    const weights = layer.getWeights();
    const bounds: Record<string, [number, number]> = {
      gamma: [0.5, 1.5],
      beta: [-0.3, 0.3],
      moving_mean: [-0.2, 0.2],
      moving_variance: [0.3, 2],
    };
    layer.setWeights(
      layer.weights.map((w, j) => {
        const [lo, hi] = bounds[w.originalName.split('/').pop()!]!;
        return tf.tensor(values(weights[j]!.size, 100 * i + j, lo, hi), weights[j]!.shape);
      }),
    );
  });
}

const relDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(a)).dataSync()[0]!);

describe('frozen teacher', () => {
  let images: tf.Tensor4D;
  let student: tf.LayersModel;
  beforeAll(async () => {
    await initBackend('wasm');
    images = tf.tensor4d(values(8 * 32 * 32 * 3, 7, -2, 2), [8, 32, 32, 3]);
    student = findPreset('cnn-small').build(3);
  });
  afterAll(() => {
    images.dispose();
    student.dispose();
  });

  it.each([
    ['vgg-fast', 4],
    ['resnet8', 9],
    ['cnn-small', 0],
  ])('%s: same outputs as teacher.apply, %i conv + BatchNorm pairs folded', (id, pairs) => {
    const model = findPreset(id).build(1);
    perturbBatchNorms(model);
    const frozen = freezeTeacher(model);
    expect(frozen.folded).toBe(pairs);
    const before = tf.memory().numTensors;
    const reference = tf.tidy(() => model.apply(images, { training: false }) as tf.Tensor[]);
    const outs = stopGradient(() => frozen.run(images));
    expect(outs.map((t) => t.shape)).toEqual(reference.map((t) => t.shape));
    outs.forEach((t, i) => {
      const rel = relDiff(reference[i]!, t);
      // Folding reorders float32 products; nothing more may differ.
      expect(rel, `output ${i}`).toBeLessThan(pairs ? 1e-5 : 1e-7);
    });
    tf.dispose([...reference, ...outs]);
    expect(tf.memory().numTensors).toBe(before);
    frozen.dispose();
    model.dispose();
  });

  it('leaves the distillation losses unchanged to 1e-5 relative', () => {
    const teacher = findPreset('vgg-fast').build(2);
    perturbBatchNorms(teacher);
    const frozen = freezeTeacher(teacher);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const losses = (t: tf.Tensor[]) =>
      tf.tidy(() => {
        const s = student.apply(images, { training: false }) as tf.Tensor[];
        // Sharpened student logits: the untrained nets' near-uniform ones would make the KD term vanish.
        const soft = kdLoss(tf.mul(s[0]!, 30) as tf.Tensor2D, t[0] as tf.Tensor2D, labels, {
          temperature: 4,
          alpha: 0.9,
        }).soft;
        // The pooled features, as feature-matching methods read them (PKT's own value is too close to 0 for a
        // relative comparison between two untrained nets).
        const features = tf.mean(tf.square(tf.sub(t[1]!, tf.mean(s[1]!))));
        // A FitNet-style hint on the first stage map (same 32x32 size: mean over channels).
        const hint = tf.mean(tf.squaredDifference(tf.mean(s[2]!, 3), tf.mean(t[2]!, 3)));
        return [soft, features, hint].map((l) => l.dataSync()[0]!);
      });
    const reference = tf.tidy(() => teacher.apply(images, { training: false }) as tf.Tensor[]);
    const outs = frozen.run(images);
    const expected = losses(reference);
    const got = losses(outs);
    console.info('losses (kd soft, features, hint) with teacher.apply:', expected, 'frozen:', got);
    expected.forEach((e, i) => {
      expect(Math.abs(e)).toBeGreaterThan(1e-4);
      expect(Math.abs(got[i]! - e) / Math.abs(e), `loss ${i}`).toBeLessThanOrEqual(1e-5);
    });
    tf.dispose([...reference, ...outs, labels]);
    frozen.dispose();
    teacher.dispose();
  });

  it('rejects a model with two inputs', () => {
    const a = tf.input({ shape: [4] });
    const b = tf.input({ shape: [4] });
    const model = tf.model({ inputs: [a, b], outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor });
    expect(() => freezeTeacher(model)).toThrow(/one input; it takes 2/);
  });
});
