/**
 * What the anchor gallery and `cli anchors` show, as plain data (no tensors, no DOM): a teacher's anchors with
 * their images, centrality ranks and, during or after an AKD run, their learned masks upsampled to the image
 * exactly as the student sees them (resize.ts matrices, here in plain JS); and, per anchor, its nearest
 * training images in the teacher's feature space and the least central images of its class.
 *
 * The teacher's features over the training split are computed once per teacher and split (the preview's slow
 * part, with progress) and kept for the neighbour look-ups. Centrality and ranking: anchors.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import { type ImageSplit, imageToRgba } from '../data/cifar10';
import { CIFAR10_MEAN } from '../training/batches';
import { type AnchorSet, rankAnchors, teacherFeatures } from './anchors';
import type { AnchorMasks } from './method';
import { interpolationMatrix } from './resize';

/** One anchor as the gallery draws it. */
export interface GalleryAnchor {
  /** Record index in the training split. */
  readonly index: number;
  readonly class: number;
  readonly className: string;
  /** Row sum of its class's cosine-similarity matrix (anchors.ts). */
  readonly centrality: number;
  /** 1 = the most central image of its class. */
  readonly rank: number;
  readonly classSize: number;
  /** 32x32 RGBA of the image. */
  readonly rgba: Uint8ClampedArray;
  /** The mask upsampled to the image (row-major, image size squared), as it multiplies the image; null before training. */
  readonly mask: Float32Array | null;
  readonly maskStats: MaskStats | null;
}

export interface MaskStats {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** mean |m - 1| over the mask's cells (before the upsampling): how far it has moved from all-ones. */
  readonly meanAbsMove: number;
}

export interface AnchorGalleryView {
  /** 'preview': anchors only; 'run': with the masks of the current or last AKD run. */
  readonly source: 'preview' | 'run';
  /** e.g. "epoch 2 of 5, step 40", or "teacher preview". */
  readonly label: string;
  readonly imageSize: number;
  /** The dataset-mean colour (0-255): what a mask value of 0 leaves of a pixel (the student's input is normalised). */
  readonly meanRgb: readonly [number, number, number];
  readonly anchors: readonly GalleryAnchor[];
  /** Masks at each completed epoch's end (replay), each [anchor] -> upsampled mask; empty for a preview. */
  readonly history: readonly (readonly Float32Array[])[];
}

/** An image the neighbour panel shows. */
export interface GalleryImage {
  readonly index: number;
  readonly class: number;
  readonly className: string;
  readonly rgba: Uint8ClampedArray;
  /** Cosine similarity to the anchor (neighbours) or centrality rank in the class (atypical ones). */
  readonly score: number;
}

export interface AnchorNeighbours {
  readonly anchor: number;
  /** The nearest training images by cosine similarity of the teacher's features (the anchor itself left out). */
  readonly nearest: readonly GalleryImage[];
  /** The least central images of the anchor's class, least central first; `score` is the rank. */
  readonly leastCentral: readonly GalleryImage[];
}

const IMAGE_SIZE = 32;
export const MEAN_RGB = CIFAR10_MEAN.map((m) => Math.round(m * 255)) as unknown as readonly [
  number,
  number,
  number,
];

/** Statistics of one mask's cells. */
export function maskStats(cells: ArrayLike<number>): MaskStats {
  let sum = 0;
  let move = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i]!;
    sum += v;
    move += Math.abs(v - 1);
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { mean: sum / cells.length, min, max, meanAbsMove: move / cells.length };
}

/** A size x size mask upsampled to out x out as A·M·Aᵀ (PyTorch's bilinear, align_corners=False). */
export function upsampleMaskValues(cells: ArrayLike<number>, size: number, out: number): Float32Array {
  const a = interpolationMatrix(size, out);
  const rows = new Float64Array(out * size); // A·M: [out x size]
  for (let r = 0; r < out; r++)
    for (let k = 0; k < size; k++) {
      const w = a[r * size + k]!;
      if (w)
        for (let c = 0; c < size; c++) rows[r * size + c] = rows[r * size + c]! + w * cells[k * size + c]!;
    }
  const result = new Float32Array(out * out); // (A·M)·Aᵀ
  for (let r = 0; r < out; r++)
    for (let c = 0; c < out; c++) {
      let v = 0;
      for (let k = 0; k < size; k++) v += rows[r * size + k]! * a[c * size + k]!;
      result[r * out + c] = v;
    }
  return result;
}

/** Each anchor's upsampled mask from a read of the method's masks. */
export function upsampledMasks(read: AnchorMasks, out = IMAGE_SIZE): Float32Array[] {
  const cells = read.size * read.size;
  return read.anchors.indices.map((_, i) =>
    upsampleMaskValues(read.masks.subarray(i * cells, (i + 1) * cells), read.size, out),
  );
}

interface FeatureCache {
  readonly teacher: tf.LayersModel;
  /** The teacher's weights version (a teacher trained on changes its features). */
  readonly version: string;
  readonly split: ImageSplit;
  readonly features: Float32Array;
  readonly dim: number;
  /** Every record of every class, most central first (rankAnchors with every record kept). */
  readonly ranking: AnchorSet;
  /** By record index: its rank in its class (1 = most central). */
  readonly rankOf: Int32Array;
}

/** The teacher's features, class rankings and anchors of one split, and the views built from them. */
export class AnchorExplorer {
  private cache: FeatureCache | null = null;

  constructor(private readonly classNames: readonly string[]) {}

  private nameOf = (c: number) => this.classNames[c] ?? String(c);

  /** Features and rankings of `split` under `teacher`, computed once per version (progress: records done of all). */
  async prepare(
    teacher: tf.LayersModel,
    split: ImageSplit,
    version: string,
    onProgress?: (done: number, total: number) => void | Promise<void>,
  ): Promise<void> {
    if (this.holds(teacher, split, version)) return;
    this.cache = null;
    if (!split.count) throw new Error('the active dataset has no training images to pick anchors from');
    const { features, dim } = await teacherFeatures(teacher, split, 256, onProgress);
    this.prepareFrom(teacher, split, version, features, dim);
  }

  /** Whether the features of `split` under this teacher and version are here already. */
  holds(teacher: tf.LayersModel, split: ImageSplit, version: string): boolean {
    const c = this.cache;
    return c?.teacher === teacher && c.split === split && c.version === version;
  }

  /**
   * The same as `prepare` from features computed elsewhere ([records x dim] row-major, the teacher's in inference
   * mode): a session's shared teacher pass (teacherPasses.ts).
   */
  prepareFrom(
    teacher: tf.LayersModel,
    split: ImageSplit,
    version: string,
    features: Float32Array,
    dim: number,
  ): void {
    if (this.holds(teacher, split, version)) return;
    this.cache = null;
    if (!split.count) throw new Error('the active dataset has no training images to pick anchors from');
    const numClasses = teacher.outputs[0]!.shape[1] as number;
    const ranking = rankAnchors(features, dim, split.labels, split.count, numClasses);
    const rankOf = new Int32Array(split.count);
    ranking.indices.forEach((record, k) => {
      rankOf[record] =
        k === 0 || ranking.classes[k - 1] !== ranking.classes[k] ? 1 : rankOf[ranking.indices[k - 1]!]! + 1;
    });
    this.cache = { teacher, version, split, features, dim, ranking, rankOf };
  }

  get isPrepared(): boolean {
    return this.cache !== null;
  }

  private prepared(): FeatureCache {
    if (!this.cache) throw new Error('no anchors yet: preview them first');
    return this.cache;
  }

  /** The top `perClass` anchors of every class, as AKD picks them (labels, BatchNorm in inference mode). */
  anchors(perClass: number): AnchorSet {
    if (!(Number.isInteger(perClass) && perClass >= 1))
      throw new RangeError(`anchors per class must be a whole number >= 1; got ${perClass}`);
    const { ranking } = this.prepared();
    const keep: number[] = [];
    let taken = 0;
    ranking.indices.forEach((_, k) => {
      if (k > 0 && ranking.classes[k] !== ranking.classes[k - 1]) taken = 0;
      if (taken++ < perClass) keep.push(k);
    });
    return {
      indices: keep.map((k) => ranking.indices[k]!),
      classes: keep.map((k) => ranking.classes[k]!),
      centrality: keep.map((k) => ranking.centrality[k]!),
      classSizes: ranking.classSizes,
    };
  }

  /** The gallery of an anchor set, with masks when given (an AKD run's read). */
  view(
    split: ImageSplit,
    anchors: AnchorSet,
    label: string,
    masks: AnchorMasks | null = null,
    history: readonly AnchorMasks[] = [],
  ): AnchorGalleryView {
    const rankOf = this.cache?.split === split ? this.cache.rankOf : null;
    const upsampled = masks ? upsampledMasks(masks) : null;
    const cells = masks ? masks.size * masks.size : 0;
    return {
      source: masks ? 'run' : 'preview',
      label,
      imageSize: IMAGE_SIZE,
      meanRgb: MEAN_RGB,
      anchors: anchors.indices.map((index, i) => ({
        index,
        class: anchors.classes[i]!,
        className: this.nameOf(anchors.classes[i]!),
        centrality: anchors.centrality[i]!,
        rank: rankOf
          ? rankOf[index]!
          : 1 +
            anchors.indices.slice(0, i).filter((_, j) => anchors.classes[j] === anchors.classes[i]).length,
        classSize: anchors.classSizes[anchors.classes[i]!] ?? 0,
        rgba: imageToRgba(split, index),
        mask: upsampled ? upsampled[i]! : null,
        maskStats: masks ? maskStats(masks.masks.subarray(i * cells, (i + 1) * cells)) : null,
      })),
      history: history.map((h) => upsampledMasks(h)),
    };
  }

  /** The `count` nearest training images to a record and the `count` least central of its class. */
  neighbours(record: number, count = 8): AnchorNeighbours {
    const { split, features, dim, ranking, rankOf } = this.prepared();
    if (!(Number.isInteger(record) && record >= 0 && record < split.count))
      throw new RangeError(`record ${record} is outside the training split (0..${split.count - 1})`);
    const norm = (i: number) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += features[i * dim + d]! ** 2;
      return Math.sqrt(s) || 1;
    };
    const own = norm(record);
    const scored: { i: number; cos: number }[] = [];
    for (let i = 0; i < split.count; i++) {
      if (i === record) continue;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += features[i * dim + d]! * features[record * dim + d]!;
      scored.push({ i, cos: dot / (own * norm(i)) });
    }
    scored.sort((a, b) => b.cos - a.cos || a.i - b.i);
    const image = (i: number, score: number): GalleryImage => ({
      index: i,
      class: split.labels[i]!,
      className: this.nameOf(split.labels[i]!),
      rgba: imageToRgba(split, i),
      score,
    });
    const c = split.labels[record]!;
    const ofClass = ranking.indices.filter((_, k) => ranking.classes[k] === c);
    return {
      anchor: record,
      nearest: scored.slice(0, count).map(({ i, cos }) => image(i, cos)),
      leastCentral: ofClass
        .slice(-count)
        .reverse()
        .map((i) => image(i, rankOf[i]!)),
    };
  }

  /** Forget the features (a new teacher or dataset). */
  clear(): void {
    this.cache = null;
  }
}
