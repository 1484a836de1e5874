/**
 * The trainer's momentum optimizer (training/momentum.ts) against tfjs's own MomentumOptimizer: the same values and
 * slots, bit for bit, over steps whose learning rate changes, on wasm (the lab's fused kernel) and cpu (tfjs's
 * update), and the wasm kernel's against the cpu backend's; the fused kernel runs where it applies.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { setLearningRate } from '../training/trainer';
import { momentumOptimizer } from '../training/momentum';
import { values } from './kernelTestData';
import { MOMENTUM_UPDATE, registerMomentumUpdate } from './momentumUpdate';

/** Shapes with sizes that are multiples of 4 (the fused kernel) and one that is not (10: tfjs's update). */
const SHAPES = [[3, 3, 8, 16], [64], [10], [5, 8]];

/** Runs 3 steps of `optimizer` from fixed values and gradients; the values and slots after each, and the kernels run. */
async function train(optimizer: tf.Optimizer) {
  const variables = SHAPES.map((shape, i) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor(
          values(
            shape.reduce((a, b) => a * b),
            40 + i,
          ),
          shape,
        ),
        true,
        `w${i}_${Math.random()}`,
      ),
    ),
  );
  const seen: Float32Array[][] = [];
  const kernels = new Set<string>();
  for (let step = 0; step < 3; step++) {
    setLearningRate(optimizer, [0.1, 0.05, 0.0123][step]!);
    const grads = Object.fromEntries(
      variables.map((v, i) => [v.name, tf.tensor(values(v.size, 100 * step + i), v.shape)]),
    );
    const profile = await tf.profile(() => optimizer.applyGradients(grads));
    profile.kernelNames.forEach((name) => kernels.add(name));
    tf.dispose(Object.values(grads));
    const [iterations, ...weights] = await optimizer.getWeights();
    iterations!.tensor.dispose();
    const slots = weights.map((w) => w.tensor);
    seen.push(await Promise.all([...variables, ...slots].map(async (t) => (await t.data()) as Float32Array)));
  }
  tf.dispose(variables);
  optimizer.dispose();
  return { seen, kernels };
}

describe('the trainer momentum optimizer', () => {
  beforeAll(() => registerMomentumUpdate());

  it.each(['wasm', 'cpu'])('updates as tfjs MomentumOptimizer does, bit for bit (%s)', async (backend) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const ours = await train(momentumOptimizer(0.1, 0.9));
    // Nothing left behind: variables, slots and scalars all freed.
    expect(tf.memory().numTensors).toBe(before);
    const tfjs = await train(tf.train.momentum(0.1, 0.9));
    expect(ours.seen).toHaveLength(3);
    for (let step = 0; step < 3; step++) {
      expect(ours.seen[step]).toHaveLength(2 * SHAPES.length);
      ours.seen[step]!.forEach((data, i) => expect(data).toEqual(tfjs.seen[step]![i]));
    }
    // The values moved: the comparison is not of untouched tensors.
    expect(ours.seen[2]![0]).not.toEqual(tfjs.seen[0]![0]);
    expect(ours.kernels.has(MOMENTUM_UPDATE)).toBe(backend === 'wasm');
  });

  it("gives on wasm, by the lab's kernel, the cpu backend's values, bit for bit", async () => {
    await tf.setBackend('wasm');
    const wasm = await train(momentumOptimizer(0.1, 0.9));
    await tf.setBackend('cpu');
    const cpu = await train(tf.train.momentum(0.1, 0.9));
    expect(wasm.kernels.has(MOMENTUM_UPDATE)).toBe(true);
    wasm.seen.forEach((step, s) => step.forEach((data, i) => expect(data).toEqual(cpu.seen[s]![i])));
  });
});
