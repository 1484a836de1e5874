import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { values } from './kernelTestData';
import { installTrainingConv, uninstallTrainingConv } from './trainingConv';
import { registerWasmGradientKernels } from './wasmGradients';

/** Two bias-free linear convs (the presets' kind), then one with bias and ReLU (tfjs-layers' own path). */
function model(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  let h = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false })
    .apply(input) as tf.SymbolicTensor;
  h = tf.layers
    .conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false })
    .apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 5, kernelSize: 2, activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: h });
  m.setWeights(m.getWeights().map((w, i) => tf.tensor(values(w.size, 10 + i), w.shape)));
  return m;
}

/** The loss, its gradient for every weight, and how many Conv2DBackpropInput kernels the step ran. */
async function step(m: tf.LayersModel) {
  const x = tf.tensor4d(values(2 * 8 * 8 * 3, 3), [2, 8, 8, 3]);
  const weights = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      weights,
    );
    return [value, ...Object.values(grads)];
  });
  const dx = info.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length;
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
    weights,
  );
  const out = [value, ...weights.map((w) => grads[w.name]!)].map((t) => Array.from(t.dataSync()));
  tf.dispose([x, value, ...Object.values(grads)]);
  return { out, dx };
}

describe('plain conv2d for bias-free linear Conv2D layers on wasm', () => {
  beforeAll(async () => {
    registerWasmGradientKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });
  afterAll(() => uninstallTrainingConv());

  it("gives tfjs-layers' values and gradients, without the input gradient of the first conv", async () => {
    const m = model();
    uninstallTrainingConv();
    const own = await step(m);
    installTrainingConv();
    installTrainingConv();
    const plain = await step(m);
    // Three convs: tfjs-layers' fused path computes dx for all three (the first one's for nothing).
    expect(own.dx).toBe(3);
    expect(plain.dx).toBe(2);
    expect(plain.out).toEqual(own.out);
    m.dispose();
  });

  it('leaves other backends to tfjs-layers', async () => {
    installTrainingConv();
    expect(await tf.setBackend('cpu')).toBe(true);
    const m = model();
    const { dx } = await step(m);
    expect(dx).toBe(3);
    m.dispose();
    expect(await tf.setBackend('wasm')).toBe(true);
  });
});
