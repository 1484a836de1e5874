/**
 * The one interface every distillation method implements (after megvii-research/mdistiller's
 * `distillers/*.py`): a method declares its parameters (name, range, help; the UI builds its controls from them
 * and the CLI reads `--param name=value`), and its instance's loss returns a dictionary of NAMED loss terms,
 * always with `ce` and `total`, so that the live curves can show every term.
 *
 * Also here: the label-efficiency choice of labelled records and `stopGradient` (parameter declarations and
 * their validation: src/engine/config/methods.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../data/cifar10';
import type { AnchorSet } from './anchors';
import { seededRandom, shuffled } from '../data/subset';
import type { ExtraParameters, LossFunction } from '../training/trainer';
import type { StoredAnchors } from '../training/checkpoint';
import type { MethodParam } from '../config/methods';

// Parameter declarations and their one validator are in the tfjs-free contract (the form and the URL use them).
export {
  defaultParams,
  LABELLED_FRACTIONS,
  type MethodParam,
  MethodParamError,
  type ParamValues,
  validateParams,
} from '../config/methods';

/** What a method instance is built from. */
export interface MethodContext {
  /** The model being trained; outputs [logits, features, stage1, stage2, ...] (models/presets.ts). */
  readonly student: tf.LayersModel;
  /** The frozen teacher, same output layout; always run with `training: false` and never differentiated. */
  readonly teacher: tf.LayersModel;
  /** The training split: record indices in a batch (`indices`) refer to it. */
  readonly train: ImageSplit;
  readonly seed: number;
  readonly batchSize: number;
  /** Share of training records whose labels are used, class-balanced, chosen by `seed` (see chooseLabelled). */
  readonly labelledFraction: number;
  /**
   * L2 weight decay on conv/dense kernels (the student's and a method's own, e.g. FitNet's regressor), as
   * `crossEntropyLoss` applies it (0.5 * wd * sum of squares, a `weightDecay` term); 0 or left out: none.
   */
  readonly weightDecay?: number;
  /**
   * The teacher's anchors on `train`, 1 per class, when already known (stored with it: docs/design.md §6,
   * "Stored anchors"); AKD uses them instead of its pass over the training split when they fit and it asks for
   * 1 per class with every label. Left out: chosen afresh.
   */
  readonly knownAnchors?: StoredAnchors;
}

/** Plain JSON, for describe(). */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One array of a method's run state (masks, memory banks, extra weights, counters), by a stable key. */
export interface StateArray {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** What a checkpoint keeps of a method beside the student (AKD's masks, CRD's memory bank...). */
export type MethodState = Record<string, StateArray>;

/** A method's anchors and their learned masks, read at one moment (AKD; the anchor gallery shows them). */
export interface AnchorMasks {
  readonly anchors: AnchorSet;
  /** Side of each square mask (AKD: 14). */
  readonly size: number;
  /** [anchor][row][column] row-major, as applied (mean 1 per anchor), before the upsampling to the image. */
  readonly masks: Float32Array;
}

/** A method bound to one student, teacher and training split. */
export interface MethodInstance {
  /** Named terms, always including `ce` and `total`, and the student's logits. */
  readonly loss: LossFunction;
  /** The teacher its loss runs and which of its outputs it reads (ascending); absent for plain CE. */
  readonly teacher?: { readonly model: tf.LayersModel; readonly outputs: readonly number[] };
  /** Variables the method trains: with the student's optimizer, or in groups with their own optimizers. */
  readonly extra: ExtraParameters;
  /** By training-record index: 1 where the label may be used (cross-entropy), 0 where not. */
  readonly labelled: Uint8Array;
  /** Plain-JSON information for the UI, by component id (e.g. `{ akd: { anchors, masks } }`). */
  describe?(): Promise<Record<string, JsonValue>>;
  /** The extra state a checkpoint must keep (not part of the exported student). */
  state?(): Promise<MethodState>;
  /** Puts back what state() returned; throws naming a missing or mis-shaped array. */
  restore?(state: MethodState): void;
  /** Methods with anchors and learned masks declare them here (one small read-back per call). */
  anchorMasks?(): Promise<AnchorMasks>;
  /** Frees every tensor, variable and optimizer the instance made (not the student or teacher). */
  dispose(): void;
}

export interface DistillMethod {
  /** Registry id: 'kd', 'akd+kd'. */
  readonly id: string;
  readonly label: string;
  /** One line. */
  readonly summary: string;
  /** Where the defaults come from, e.g. 'Hinton et al. 2015; RepDistiller CIFAR recipe'. */
  readonly defaultsFrom: string;
  readonly params: readonly MethodParam[];
  /** True when its instances have anchors with learned masks (anchorMasks), for the anchor gallery. */
  readonly learnsAnchorMasks?: boolean;
  /** False for a method that trains on the labels alone (ce): it runs without a teacher. */
  readonly needsTeacher: boolean;
  /** What its set-up does before the first step when that takes a while (AKD chooses anchors); shown while it runs. */
  readonly setupNote?: string;
  /** `params` are raw (CLI strings or numbers); left-out ones take their defaults; bad ones throw. */
  create(context: MethodContext, params?: Readonly<Record<string, unknown>>): Promise<MethodInstance>;
}

/**
 * The labelled records of a split for a label fraction: in every class, round(fraction x class size) records
 * chosen by `seed` (class-balanced). Returns a mask by record index: 1 = labelled. The fraction may be any value
 * in [0, 1]; the lab offers LABELLED_FRACTIONS.
 */
export function chooseLabelled(labels: Uint8Array, fraction: number, seed: number): Uint8Array {
  if (!(fraction >= 0 && fraction <= 1))
    throw new RangeError(`labelled fraction must be between 0 and 1; got ${fraction}`);
  const mask = new Uint8Array(labels.length);
  if (fraction === 1) return mask.fill(1);
  if (fraction === 0) return mask;
  const byClass = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const members = byClass.get(label);
    if (members) members.push(index);
    else byClass.set(label, [index]);
  });
  const random = seededRandom(`${seed}/labelled`);
  [...byClass.keys()]
    .sort((a, b) => a - b)
    .forEach((label) => {
      const members = byClass.get(label)!;
      for (const index of shuffled(members, random).slice(0, Math.round(fraction * members.length)))
        mask[index] = 1;
    });
  return mask;
}

/**
 * Runs `compute` with the gradient tape paused: what it returns is a constant to any enclosing tf.grad /
 * tf.variableGrads (TensorFlow's stop_gradient, which tfjs lacks), and none of its intermediates are kept for a
 * backward pass. Used for the teacher's forward pass and for the mask rescaling of AKD.
 */
export function stopGradient<T extends tf.TensorContainer>(compute: () => T): T {
  const state = tf.engine().state;
  const depth = state.gradientDepth;
  state.gradientDepth = 0;
  try {
    return compute();
  } finally {
    state.gradientDepth = depth;
  }
}
