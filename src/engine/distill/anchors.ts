/**
 * The anchors of Anchor-based KD (DESIGN.md section 3): the teacher's penultimate features over the training
 * split (BatchNorm in inference mode), and per class the most central records, centrality = the row sum of the
 * class's cosine-similarity matrix (self-similarity 1 included); the top N per class are the anchors.
 *
 * The row sum is computed without forming the matrix: with unit rows u_i, sum_j cos(i, j) = u_i . (sum_j u_j),
 * the same number in O(records x dim) instead of O(records^2 x dim) (5,000 x 5,000 per CIFAR class), summed in
 * float64 on the CPU. The teacher runs in batches of 256 with one read-back per batch.
 *
 * Also the anchor uncertainty scorer: u(x) = 1 - max over anchors of K(f(x), f(a)) with the student's features
 * of the UNMASKED anchors (losses.ts anchorUncertainty).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../data/cifar10';
import { makeBatch } from '../training/batches';
import type { StoredAnchors } from '../training/checkpoint';
import { freezeTeacher } from './frozenTeacher';
import { anchorUncertainty } from './losses';

export interface AnchorSet {
  /** Record indices in the training split: class by class, most central first. */
  readonly indices: readonly number[];
  /** The class of each anchor (its label, or the teacher's prediction for an unlabelled record). */
  readonly classes: readonly number[];
  /** Each anchor's centrality: the row sum of its class's cosine-similarity matrix. */
  readonly centrality: readonly number[];
  /** How many records each class had to choose from. */
  readonly classSizes: readonly number[];
}

export interface AnchorOptions {
  /** Anchors per class (the paper recommends 1 or 2, i.e. C or 2C anchors). */
  readonly perClass: number;
  /** By record index, 1 = the label may be used; other records take the teacher's predicted class. All when left out. */
  readonly labelled?: Uint8Array;
  /** Images per teacher forward pass. */
  readonly batchSize?: number;
}

/** Normalised NHWC images of some records (no augmentation), [n, 32, 32, 3]. */
export const recordImages = (split: ImageSplit, indices: readonly number[]): tf.Tensor4D =>
  tf.tensor4d(makeBatch(split, indices), [indices.length, 32, 32, 3]);

/**
 * The teacher's penultimate features of every record, [count x dim] row-major, and its predicted class of each,
 * in inference mode; one read-back per batch. `onProgress` (records done, all) runs after each batch.
 */
export async function teacherFeatures(
  teacher: tf.LayersModel,
  split: ImageSplit,
  batchSize = 256,
  onProgress?: (done: number, total: number) => void | Promise<void>,
): Promise<{ features: Float32Array; dim: number; predicted: Uint8Array }> {
  const dim = teacher.outputs[1]!.shape[1] as number;
  const features = new Float32Array(split.count * dim);
  const predicted = new Uint8Array(split.count);
  // Conv + BatchNorm folded into one conv: the same outputs up to rounding, fewer passes (frozenTeacher.ts).
  const frozen = freezeTeacher(teacher);
  try {
    for (let start = 0; start < split.count; start += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, split.count - start) }, (_, i) => start + i);
      // Features and the predicted class in one tensor, so one read per batch.
      const packed = tf.tidy(() => {
        const [logits, feats] = frozen.run(recordImages(split, indices));
        return tf.concat([feats!, tf.expandDims(tf.cast(tf.argMax(logits!, 1), 'float32'), 1)], 1);
      });
      const values = await packed.data();
      packed.dispose();
      indices.forEach((record, row) => {
        features.set(values.subarray(row * (dim + 1), row * (dim + 1) + dim), record * dim);
        predicted[record] = values[row * (dim + 1) + dim]!;
      });
      await onProgress?.(start + indices.length, split.count);
    }
  } finally {
    frozen.dispose();
  }
  return { features, dim, predicted };
}

/**
 * The top `perClass` records of every class by centrality (ties: the lower record index first). `features` is
 * [records x dim] row-major; a zero row has centrality 0. A class with fewer records gives what it has.
 */
export function rankAnchors(
  features: Float32Array,
  dim: number,
  classes: ArrayLike<number>,
  perClass: number,
  numClasses: number,
): AnchorSet {
  const count = classes.length;
  if (features.length !== count * dim)
    throw new Error(`expected ${count} x ${dim} features, got ${features.length} values`);
  const inverseNorm = new Float64Array(count);
  const sums = new Float64Array(numClasses * dim);
  const members: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < count; i++) {
    const c = classes[i]!;
    if (!(c >= 0 && c < numClasses))
      throw new RangeError(`record ${i} has class ${c}, outside 0..${numClasses - 1}`);
    members[c]!.push(i);
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += features[i * dim + d]! ** 2;
    const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    inverseNorm[i] = scale;
    for (let d = 0; d < dim; d++) sums[c * dim + d] = sums[c * dim + d]! + features[i * dim + d]! * scale;
  }
  const centralityOf = (i: number) => {
    const c = classes[i]!;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += features[i * dim + d]! * sums[c * dim + d]!;
    return dot * inverseNorm[i]!;
  };
  const indices: number[] = [];
  const anchorClasses: number[] = [];
  const centrality: number[] = [];
  members.forEach((records, c) => {
    records
      .map((i) => ({ i, score: centralityOf(i) }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, perClass)
      .forEach(({ i, score }) => {
        indices.push(i);
        anchorClasses.push(c);
        centrality.push(score);
      });
  });
  return { indices, classes: anchorClasses, centrality, classSizes: members.map((m) => m.length) };
}

/**
 * Whether stored anchors (a teacher's metadata: 1 per class, all labels used) can be this split's: each index a
 * record of the split, one per class present, class by class as rankAnchors lists them. Anchors that do not
 * fit (another split under the same id, a hand-edited file) are not used; they are then chosen afresh.
 */
export function anchorsFit({ indices, centrality }: StoredAnchors, split: ImageSplit): boolean {
  const present = new Set<number>();
  for (let i = 0; i < split.count; i++) present.add(split.labels[i]!);
  if (indices.length !== present.size || centrality.length !== indices.length) return false;
  const classes = [...present].sort((a, b) => a - b);
  return indices.every(
    (record, k) =>
      Number.isInteger(record) && record >= 0 && record < split.count && split.labels[record] === classes[k],
  );
}

/** The AnchorSet of stored anchors that fit `split` (anchorsFit), as selectAnchors would give it with perClass 1. */
export function storedAnchorSet(stored: StoredAnchors, split: ImageSplit, numClasses: number): AnchorSet {
  const classSizes = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.count; i++) classSizes[split.labels[i]!]! += 1;
  return {
    indices: [...stored.indices],
    classes: stored.indices.map((record) => split.labels[record]!),
    centrality: [...stored.centrality],
    classSizes,
  };
}

/** Anchors from the teacher's features over a training split (inference mode, batched). */
export async function selectAnchors(
  teacher: tf.LayersModel,
  split: ImageSplit,
  { perClass, labelled, batchSize = 256 }: AnchorOptions,
): Promise<AnchorSet> {
  if (!(Number.isInteger(perClass) && perClass >= 1))
    throw new RangeError(`anchors per class must be a whole number >= 1; got ${perClass}`);
  const numClasses = teacher.outputs[0]!.shape[1] as number;
  const { features, dim, predicted } = await teacherFeatures(teacher, split, batchSize);
  const classes = labelled
    ? Uint8Array.from(split.labels, (label, i) => (labelled[i] ? label : predicted[i]!))
    : split.labels;
  return rankAnchors(features, dim, classes, perClass, numClasses);
}

export interface AnchorScorer {
  /** u(x) per image of a normalised NHWC batch: 1 - max over anchors of K(f(x), f(anchor)); higher = less sure. */
  score(images: tf.Tensor4D): tf.Tensor1D;
  dispose(): void;
}

/**
 * The anchor uncertainty of a student: its features of the unmasked anchor images (computed once, inference
 * mode) against its features of each scored image.
 */
export function anchorUncertaintyOf(student: tf.LayersModel, anchorImages: tf.Tensor4D): AnchorScorer {
  const anchorFeatures = tf.tidy(
    () => (student.apply(anchorImages, { training: false }) as tf.Tensor[])[1] as tf.Tensor2D,
  );
  return {
    score: (images) =>
      tf.tidy(() =>
        anchorUncertainty(
          (student.apply(images, { training: false }) as tf.Tensor[])[1] as tf.Tensor2D,
          anchorFeatures,
        ),
      ),
    dispose: () => anchorFeatures.dispose(),
  };
}
