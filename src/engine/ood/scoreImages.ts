/**
 * Every image's outputs that the trust panel needs, from one model in inference mode: its logits and the four
 * uncertainty scores (MSP, entropy, energy, anchor uncertainty u(x); higher = more uncertain). Batched, with one
 * packed read-back per batch and a yield to the host between batches, so progress and Cancel get through.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../data/cifar10';
import { anchorUncertainty } from '../distill/losses';
import { energyScore, entropyScore, mspScore } from '../metrics/softmaxScores';
import { makeBatch } from '../training/batches';

export const OOD_SCORES = ['msp', 'entropy', 'energy', 'anchorU'] as const;
export type OodScore = (typeof OOD_SCORES)[number];

export const SCORE_LABELS: Record<OodScore, string> = {
  msp: 'MSP (1 - max softmax)',
  entropy: 'Softmax entropy',
  energy: 'Energy (-logsumexp)',
  anchorU: 'Anchor uncertainty u(x)',
};

/** Per-image outputs of one model on one image set. */
export interface ImageScores {
  readonly count: number;
  readonly classes: number;
  /** [count x classes], row-major. */
  readonly logits: Float32Array;
  readonly scores: Record<OodScore, Float32Array>;
}

export interface ScoreOptions {
  readonly batchSize?: number;
  /** After each batch: images done so far. */
  readonly onBatch?: (done: number) => void;
  /** Between batches: true ends the work (the result is then null). */
  readonly shouldStop?: () => boolean;
  readonly yieldToHost?: () => Promise<void>;
  /** The model's forward pass in inference mode (default: `model.apply`); e.g. a frozen, BatchNorm-folded one. */
  readonly forward?: (images: tf.Tensor4D) => tf.Tensor[];
  /**
   * Outputs computed already ([logits, features] of images start..end-1): then no image is run, only scored
   * (the session's shared teacher pass, distill/teacherPasses.ts).
   */
  readonly computed?: (start: number, end: number) => tf.Tensor[];
}

/** The model's penultimate features of some normalised images, [n, dim] (inference mode). */
export const featuresOf = (model: tf.LayersModel, images: tf.Tensor4D): tf.Tensor2D =>
  tf.tidy(() => (model.apply(images, { training: false }) as tf.Tensor[])[1] as tf.Tensor2D);

/**
 * Scores a split with `model`; `anchorFeatures` are the same model's features of the (unmasked) anchor images.
 * Null when stopped.
 */
export async function scoreImages(
  model: tf.LayersModel,
  split: ImageSplit,
  anchorFeatures: tf.Tensor2D,
  { batchSize = 250, onBatch, shouldStop, yieldToHost, forward, computed }: ScoreOptions = {},
): Promise<ImageScores | null> {
  const classes = model.outputs[0]!.shape[1] as number;
  const width = classes + OOD_SCORES.length;
  const logits = new Float32Array(split.count * classes);
  const scores = Object.fromEntries(OOD_SCORES.map((s) => [s, new Float32Array(split.count)])) as Record<
    OodScore,
    Float32Array
  >;
  for (let start = 0; start < split.count; start += batchSize) {
    if (shouldStop?.()) return null;
    const indices = Array.from({ length: Math.min(batchSize, split.count - start) }, (_, i) => start + i);
    const packed = tf.tidy(() => {
      const run = () => {
        const images = tf.tensor4d(makeBatch(split, indices), [indices.length, 32, 32, 3]);
        return forward ? forward(images) : model.apply(images, { training: false });
      };
      const [out, features] = (computed ? computed(start, start + indices.length) : run()) as tf.Tensor2D[];
      const columns: Record<OodScore, tf.Tensor1D> = {
        msp: mspScore(out!),
        entropy: entropyScore(out!),
        energy: energyScore(out!),
        anchorU: anchorUncertainty(features!, anchorFeatures),
      };
      return tf.concat(
        [
          out!,
          tf.stack(
            OOD_SCORES.map((s) => columns[s]),
            1,
          ),
        ],
        1,
      );
    });
    const values = await packed.data();
    packed.dispose();
    for (let row = 0; row < indices.length; row++) {
      const image = start + row;
      logits.set(values.subarray(row * width, row * width + classes), image * classes);
      OOD_SCORES.forEach((s, k) => {
        scores[s][image] = values[row * width + classes + k]!;
      });
    }
    onBatch?.(start + indices.length);
    await yieldToHost?.();
  }
  return { count: split.count, classes, logits, scores };
}
