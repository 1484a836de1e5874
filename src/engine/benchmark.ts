/**
 * Training-step speed of a preset on the active backend: warm-up steps first (shader compilation, XNNPACK
 * operator set-up), then timed steps, each ending in a read of its loss so the time includes the work.
 * Shared by `npm run bench` in Node and by the Worker in the browser.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from './backend/batchNormGradient';
import { findPreset, flopsPerImage } from './models/presets';
import { crossEntropyLoss } from './training/trainer';

export interface StepBenchmark {
  readonly model: string;
  readonly backend: string;
  readonly batchSize: number;
  readonly parameters: number;
  readonly flopsPerImage: number;
  readonly msPerStep: number;
  readonly imagesPerSecond: number;
  readonly timedSteps: number;
}

export async function benchmarkTrainingStep(
  presetId: string,
  options: { batchSize?: number; warmupSteps?: number; timedSteps?: number; maxSeconds?: number } = {},
): Promise<StepBenchmark> {
  const { batchSize = 64, warmupSteps = 2, timedSteps = 5, maxSeconds = 60 } = options;
  registerFastBatchNormGradient();
  const model = findPreset(presetId).build(1);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const loss = crossEntropyLoss(model, 5e-4);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const images = tf.randomNormal([batchSize, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([batchSize], 0, 10, 'int32', 2) as tf.Tensor1D;
  const indices = Array.from({ length: batchSize }, (_, i) => i);
  const step = async () => {
    const cost = optimizer.minimize(
      () => loss({ images, labels, indices, training: true }).terms.total,
      true,
      variables,
    )!;
    await cost.data();
    cost.dispose();
  };
  try {
    for (let i = 0; i < warmupSteps; i++) await step();
    const started = performance.now();
    let steps = 0;
    while (steps < timedSteps && (steps === 0 || performance.now() - started < maxSeconds * 1000)) {
      await step();
      steps += 1;
    }
    const msPerStep = (performance.now() - started) / steps;
    return {
      model: presetId,
      backend: tf.getBackend(),
      batchSize,
      parameters: model.countParams(),
      flopsPerImage: flopsPerImage(model),
      msPerStep,
      imagesPerSecond: (batchSize * 1000) / msPerStep,
      timedSteps: steps,
    };
  } finally {
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  }
}
