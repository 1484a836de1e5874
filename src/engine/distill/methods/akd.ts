/**
 * AKD, anchor-based KD (Spanos, Passalis & Tefas 2025), as DESIGN.md section 3 reads the authors' public code
 * (resnet32x4 -> resnet8x4 on CIFAR-100); where this differs from their code, and why: docs/design.md §3.
 * - Anchors (anchors.ts): per class the `anchorsPerClass` most central records by the teacher's penultimate
 *   features over the training split (BatchNorm in inference mode, where the authors' code had it in training
 *   mode). The teacher's anchor features are computed once, from the unmasked anchors.
 * - Every step the anchors pass through the student as an extra batch, each multiplied by its own learnable
 *   14x14 mask (init 1; divided by its mean before each use, no gradient through that mean; bilinearly upsampled
 *   to 32x32 by resize.ts upsampleMasks, forward and gradient as PyTorch's align_corners=False; the same for the
 *   three channels).
 * - L_AKD = lambda1 * L1 + (1 - lambda2) * L2 + lambda2 * L3 (losses.ts akdLoss); total = CE + weight * L_AKD.
 *   Terms: l1, l2, l3, akd (= L_AKD).
 * - The masks have their own SGD (lr 1e-3, weight decay 1e-5 added to their gradient as PyTorch's SGD does),
 *   and after each update every mask is rescaled to mean 1. They are run state (state()/restore(), with the
 *   anchor indices they belong to), read by anchorMasks() for the anchor gallery, never part of the exported
 *   student.
 * Defaults: the authors' (lambda1 1, lambda2 0.1, weight 10, KD weight 0, masks SGD 1e-3 / 1e-5); 1 anchor per
 * class (the paper recommends 1 or 2 per class).
 */
import * as tf from '@tensorflow/tfjs';
import { type AnchorSet, anchorsFit, recordImages, selectAnchors, storedAnchorSet } from '../anchors';
import { akdLoss } from '../losses';
import { stopGradient } from '../method';
import { upsampleMasks } from '../resize';
import { type ComponentSpec, singleMethod } from './compose';
import { methodVariable, restoreVariables, variablesState } from './methodState';

export const MASK_SIZE = 14;

type Gradients = Parameters<tf.SGDOptimizer['applyGradients']>[0];

/** Plain SGD whose update adds weightDecay * value to the gradient of each variable (PyTorch's weight_decay). */
export class DecayedSgd extends tf.SGDOptimizer {
  constructor(
    learningRate: number,
    private readonly weightDecay: number,
  ) {
    super(learningRate);
  }

  override applyGradients(variableGradients: Gradients): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const decayed = tf.tidy(() =>
      list.map(({ name, tensor }) => {
        const value = tf.engine().registeredVariables[name];
        return {
          name,
          tensor:
            this.weightDecay > 0 && value
              ? tf.add(tensor, tf.mul(value, this.weightDecay))
              : tf.clone(tensor),
        };
      }),
    );
    super.applyGradients(decayed);
    tf.dispose(decayed.map((d) => d.tensor));
  }
}

/** Each mask divided by its own mean over the 14 x 14 cells. */
const perMaskMean = (masks: tf.Tensor) => tf.mean(masks, [1, 2], true);

export const akdComponent: ComponentSpec = {
  id: 'akd',
  learnsAnchorMasks: true,
  setupNote: 'choosing the anchors with the teacher over the training split',
  params: [
    {
      name: 'anchorsPerClass',
      label: 'Anchors per class',
      default: 1,
      min: 1,
      max: 10,
      integer: true,
      help: 'Most central teacher-feature records kept per class (the paper: 1 or 2 per class).',
    },
    {
      name: 'lambda1',
      label: 'lambda1 (batch x batch)',
      default: 1,
      min: 0,
      max: 10,
      help: 'Weight of L1, the batch-by-batch kernel KL (the authors: 1).',
    },
    {
      name: 'lambda2',
      label: 'lambda2 (anchors x batch)',
      default: 0.1,
      min: 0,
      max: 1,
      help: 'L3 (anchors x batch) gets lambda2, L2 (batch x anchors) 1 - lambda2 (the authors: 0.1).',
    },
    {
      name: 'weight',
      label: 'AKD weight',
      default: 10,
      min: 0,
      max: 1000,
      help: 'Weight of L_AKD beside CE (the authors: 10).',
    },
    {
      name: 'maskLearningRate',
      label: 'Mask learning rate',
      default: 1e-3,
      min: 0,
      max: 1,
      help: "Learning rate of the masks' own SGD (the authors: 0.001).",
    },
    {
      name: 'maskWeightDecay',
      label: 'Mask weight decay',
      default: 1e-5,
      min: 0,
      max: 0.1,
      help: "Weight decay of the masks' SGD (the authors: 0.00001).",
    },
  ],
  async create({ student, teacher, train, labelled, knownAnchors }, params) {
    const { anchorsPerClass, lambda1, lambda2, weight, maskLearningRate, maskWeightDecay } = params as Record<
      string,
      number
    >;
    // The teacher's stored anchors are the rule's choice for 1 per class with every label: no pass needed.
    const stored =
      anchorsPerClass === 1 &&
      knownAnchors &&
      labelled.every((l) => l === 1) &&
      anchorsFit(knownAnchors, train)
        ? storedAnchorSet(knownAnchors, train, teacher.outputs[0]!.shape[1] as number)
        : null;
    const anchors: AnchorSet =
      stored ?? (await selectAnchors(teacher, train, { perClass: anchorsPerClass!, labelled }));
    const count = anchors.indices.length;
    if (!count) throw new Error('AKD found no anchors: the training split is empty');
    const anchorImages = recordImages(train, anchors.indices);
    const teacherAnchorFeatures = tf.tidy(
      () => (teacher.apply(anchorImages, { training: false }) as tf.Tensor[])[1] as tf.Tensor2D,
    );
    const [, height] = anchorImages.shape;
    const masks = methodVariable(tf.ones([count, MASK_SIZE, MASK_SIZE, 1]), 'akd/masks');
    const optimizer = new DecayedSgd(maskLearningRate!, maskWeightDecay!);
    const rescale = () => {
      tf.tidy(() => masks.assign(tf.div(masks, perMaskMean(masks))));
    };
    const saved = { masks };
    return {
      ownGroups: [{ variables: [masks], optimizer, afterUpdate: rescale }],
      teacherOutputs: [1],
      forward({ student: s, teacher: t, training }) {
        const mean = stopGradient(() => perMaskMean(masks));
        const upsampled = upsampleMasks(tf.div(masks, mean) as tf.Tensor4D, height);
        const maskedAnchors = tf.mul(anchorImages, upsampled) as tf.Tensor4D;
        const studentAnchorFeatures = (
          student.apply(maskedAnchors, { training }) as tf.Tensor[]
        )[1] as tf.Tensor2D;
        const { l1, l2, l3, total } = akdLoss(
          s[1] as tf.Tensor2D,
          t[1] as tf.Tensor2D,
          studentAnchorFeatures,
          teacherAnchorFeatures,
          { lambda1: lambda1!, lambda2: lambda2! },
        );
        return { terms: { l1, l2, l3, akd: total }, weighted: tf.mul(total, weight!) as tf.Scalar };
      },
      async describe() {
        const values = (await masks.array()) as number[][][][];
        return {
          anchors: anchors.indices.map((index, i) => ({
            index,
            class: anchors.classes[i]!,
            centrality: anchors.centrality[i]!,
          })),
          classSizes: [...anchors.classSizes],
          /** [anchor][row][column], mean 1 per anchor, as applied (before the upsampling). */
          masks: values.map((mask) => mask.map((row) => row.map((cell) => cell[0]!))),
        };
      },
      async anchorMasks() {
        return { anchors, size: MASK_SIZE, masks: (await masks.data()) as Float32Array };
      },
      // The anchor indices go with the masks, so a checkpoint names what its masks belong to.
      state: async () => ({
        ...(await variablesState(saved)),
        anchors: { shape: [count], values: Float32Array.from(anchors.indices) },
      }),
      restore: (state) => {
        const savedAnchors = state.anchors;
        if (savedAnchors && !tf.util.arraysEqual(Array.from(savedAnchors.values), [...anchors.indices]))
          throw new Error(
            "the saved masks belong to other anchors than this run's (another teacher, data set or anchors per class)",
          );
        restoreVariables(saved, state);
      },
      dispose: () => {
        tf.dispose([anchorImages, teacherAnchorFeatures, masks]);
        optimizer.dispose();
      },
    };
  },
};

export const akdMethod = singleMethod(
  {
    id: 'akd',
    label: 'Anchor-based KD',
    summary:
      "Match kernel similarities within the batch and to a few masked class anchors in the teacher's space.",
    defaultsFrom:
      "Spanos, Passalis & Tefas 2025, the authors' code (lambda1 1, lambda2 0.1, weight 10, masks SGD 1e-3)",
  },
  akdComponent,
);
