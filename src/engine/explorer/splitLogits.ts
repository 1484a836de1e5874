/**
 * A model's logits on every image of a split, for the temperature explorer: computed once, a slice at a time
 * (one read-back per slice, a yield between slices so that a pause or another request is not kept waiting),
 * and kept per model, dataset and weights version so that moving a slider never runs a model. The explorer's
 * arithmetic on them is in `../distill/temperature.ts`; docs/design.md section 3 has the formulas.
 */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, type ImageSplit, imageToRgba } from '../data/cifar10';
import type { SampleImage } from '../data/samples';
import { makeBatch } from '../training/batches';
import type { YieldToHost } from '../run/runTypes';

/** Logits of one model on every test image of a dataset, as the Worker sends them to the UI. */
export interface SplitLogits {
  /** The model, as the explorer names it ("vgg-fast (shipped)", "kd student, epoch 3 of 3"). */
  readonly model: string;
  readonly datasetId: string;
  readonly classes: number;
  readonly count: number;
  /** count x classes, row-major. */
  readonly logits: Float32Array;
  /** The test labels, one per row. */
  readonly labels: Uint8Array;
}

/** Where the explorer's student comes from: the latest distillation's student, or the Student panel's. */
export type StudentSource = 'distillation' | 'student';

/** The first output of every preset is its logits ([batch, classes]); the rest are features and maps. */
export async function logitsInSlices(
  model: tf.LayersModel,
  split: ImageSplit,
  yieldToHost: YieldToHost,
  sliceSize = 250,
): Promise<Float32Array> {
  let out: Float32Array | null = null;
  for (let start = 0; start < split.count; start += sliceSize) {
    const end = Math.min(split.count, start + sliceSize);
    const logits = tf.tidy(() => {
      const indices = Array.from({ length: end - start }, (_, i) => start + i);
      const images = tf.tensor4d(makeBatch(split, indices), [indices.length, 32, 32, 3]);
      const outputs = model.apply(images, { training: false });
      return (Array.isArray(outputs) ? outputs[0] : outputs) as tf.Tensor2D;
    });
    try {
      const values = (await logits.data()) as Float32Array;
      out ??= new Float32Array(split.count * logits.shape[1]);
      out.set(values, start * logits.shape[1]);
    } finally {
      logits.dispose();
    }
    await yieldToHost();
  }
  return out ?? new Float32Array(0);
}

interface Cached {
  readonly key: string;
  readonly logits: Promise<Float32Array>;
}

/** The latest logits of each model, by the dataset and the weights version they were computed for. */
export class LogitsCache {
  private readonly byModel = new WeakMap<tf.LayersModel, Cached>();

  /**
   * The model's logits on the dataset's test split, computed unless they are cached for the same dataset and
   * `version` (anything that changes when the weights do: a run's step count; 'fixed' for a loaded model).
   * Returns a copy, ready to transfer to the UI.
   */
  async of(
    model: tf.LayersModel,
    name: string,
    version: string,
    dataset: Dataset,
    yieldToHost: YieldToHost,
  ): Promise<SplitLogits> {
    const { test } = dataset;
    if (test.count === 0) throw new Error(`${dataset.name} has no test images to show`);
    const key = `${dataset.id}|${version}`;
    let cached = this.byModel.get(model);
    if (cached?.key !== key) {
      cached = { key, logits: logitsInSlices(model, test, yieldToHost) };
      this.byModel.set(model, cached);
      // A failed computation is not kept: the next request tries again.
      cached.logits.catch(() => {
        if (this.byModel.get(model) === cached) this.byModel.delete(model);
      });
    }
    return splitLogitsOf(name, dataset, await cached.logits);
  }
}

/** A model's logits on the test split as the explorer receives them (a copy, ready to transfer to the UI). */
export function splitLogitsOf(name: string, dataset: Dataset, logits: Float32Array): SplitLogits {
  const { test } = dataset;
  if (test.count === 0) throw new Error(`${dataset.name} has no test images to show`);
  return {
    model: name,
    datasetId: dataset.id,
    classes: logits.length / test.count,
    count: test.count,
    logits: logits.slice(),
    labels: test.labels.slice(),
  };
}

/** Chosen test images, ready to draw; each index is checked against the split. */
export function testSamples(dataset: Dataset, indices: readonly number[]): SampleImage[] {
  const { test } = dataset;
  return indices.map((index) => {
    if (!(Number.isInteger(index) && index >= 0 && index < test.count))
      throw new Error(`test image ${index} does not exist; the test split has ${test.count} images`);
    const label = test.labels[index]!;
    return {
      split: 'test',
      index,
      label,
      className: dataset.classNames[label] ?? String(label),
      rgba: imageToRgba(test, index),
    };
  });
}
