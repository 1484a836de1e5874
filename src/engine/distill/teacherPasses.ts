/**
 * The teacher's outputs over a whole split (logits and penultimate features, inference mode), computed once per
 * teacher, weights version and split and shared by everything in a session that reads them: the teacher
 * measurement and the temperature explorer (test split), the anchor gallery and the trust panel's anchors
 * (training split), the trust panel's teacher scores (test split). Before, each ran its own pass over the same
 * images (issues 8 and 11; docs/design.md, the teacher pass).
 *
 * A pass runs the BatchNorm-folded teacher (frozenTeacher.ts) in batches with one read-back per batch, and is
 * resumable: when the caller stops it (its yield throws: a cancelled measurement, a run starting), the
 * batches already done are kept and the next request goes on from there. A new teacher, a new weights
 * version or another split (a dataset switch makes new splits) starts afresh; entries are held weakly by
 * model and split, so a replaced teacher or dataset frees its arrays.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../data/cifar10';
import { recordImages } from './anchors';
import { freezeTeacher } from './frozenTeacher';

/** The teacher's outputs on every image of a split. */
export interface TeacherPass {
  readonly count: number;
  readonly classes: number;
  /** Feature dimension (the penultimate layer's width). */
  readonly dim: number;
  /** [count x classes], row-major. */
  readonly logits: Float32Array;
  /** [count x dim], row-major. */
  readonly features: Float32Array;
}

export interface PassOptions {
  /** After each batch: images done, of all (also for the batches a resumed pass had already done). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Between batches; a host that wants to stop throws here (the batches done stay for the next request). */
  readonly yieldToHost?: () => Promise<void>;
  readonly batchSize?: number;
}

interface Entry {
  readonly version: string;
  readonly pass: TeacherPass;
  /** Images done so far (a prefix of the split). */
  done: number;
  /** The request filling it now, if any: a second one waits for it instead of running the same batches. */
  running: Promise<void> | null;
}

/** Images per teacher batch: the frozen pass costs the same per image from 64 up (scripts/profile-teacher.ts). */
const BATCH = 256;

export class TeacherPasses {
  private readonly byModel = new WeakMap<tf.LayersModel, WeakMap<ImageSplit, Entry>>();
  /** How many images this cache has run through a teacher (tests and measurements read it). */
  imagesRun = 0;

  /**
   * The teacher's outputs on `split`, computed (or completed) unless held for the same `version` (anything
   * that changes when the weights do: a run's position; 'fixed' for a loaded teacher).
   */
  async of(
    teacher: tf.LayersModel,
    version: string,
    split: ImageSplit,
    options: PassOptions = {},
  ): Promise<TeacherPass> {
    let bySplit = this.byModel.get(teacher);
    if (!bySplit) {
      bySplit = new WeakMap();
      this.byModel.set(teacher, bySplit);
    }
    let entry = bySplit.get(split);
    if (entry?.version !== version) {
      const classes = teacher.outputs[0]!.shape[1] as number;
      const dim = teacher.outputs[1]!.shape[1] as number;
      entry = {
        version,
        pass: {
          count: split.count,
          classes,
          dim,
          logits: new Float32Array(split.count * classes),
          features: new Float32Array(split.count * dim),
        },
        done: 0,
        running: null,
      };
      bySplit.set(split, entry);
    }
    while (entry.done < split.count) {
      if (entry.running) {
        // Another request is filling it: wait for it, then go on from where it stopped (it may have been stopped).
        await entry.running.catch(() => undefined);
        continue;
      }
      const current = entry;
      current.running = this.fill(teacher, split, current, options).finally(() => {
        current.running = null;
      });
      await current.running;
    }
    options.onProgress?.(split.count, split.count);
    return entry.pass;
  }

  private async fill(
    teacher: tf.LayersModel,
    split: ImageSplit,
    entry: Entry,
    { onProgress, yieldToHost, batchSize = BATCH }: PassOptions,
  ): Promise<void> {
    const { classes, dim, logits, features } = entry.pass;
    const width = classes + dim;
    const frozen = freezeTeacher(teacher);
    try {
      while (entry.done < split.count) {
        const start = entry.done;
        const indices = Array.from({ length: Math.min(batchSize, split.count - start) }, (_, i) => start + i);
        // Logits and features side by side, so one read per batch.
        const packed = tf.tidy(() => {
          const [out, feats] = frozen.run(recordImages(split, indices));
          return tf.concat([out!, feats!], 1);
        });
        let values: Float32Array;
        try {
          values = (await packed.data()) as Float32Array;
        } finally {
          packed.dispose();
        }
        indices.forEach((record, row) => {
          logits.set(values.subarray(row * width, row * width + classes), record * classes);
          features.set(values.subarray(row * width + classes, (row + 1) * width), record * dim);
        });
        entry.done = start + indices.length;
        this.imagesRun += indices.length;
        onProgress?.(entry.done, split.count);
        await yieldToHost?.();
      }
    } finally {
      frozen.dispose();
    }
  }
}

/** Share of records whose largest logit is at their label (the first largest, as tf.argMax picks). */
export function passAccuracy(pass: TeacherPass, labels: ArrayLike<number>): number {
  if (pass.count === 0) return Number.NaN;
  let correct = 0;
  for (let i = 0; i < pass.count; i++) {
    let best = 0;
    for (let c = 1; c < pass.classes; c++)
      if (pass.logits[i * pass.classes + c]! > pass.logits[i * pass.classes + best]!) best = c;
    if (best === labels[i]) correct += 1;
  }
  return correct / pass.count;
}

/** Rows start..end-1 of a pass as tensors, [logits, features], as a model's first two outputs come. */
export function passRows(pass: TeacherPass, start: number, end: number): tf.Tensor2D[] {
  const { classes, dim } = pass;
  return [
    tf.tensor2d(pass.logits.subarray(start * classes, end * classes), [end - start, classes]),
    tf.tensor2d(pass.features.subarray(start * dim, end * dim), [end - start, dim]),
  ];
}
