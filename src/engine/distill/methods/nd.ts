/**
 * ND loss (Wang, Cheng, Duan, Wang, Feng & Kong 2023, "Improving Knowledge Distillation via Regularizing Feature
 * Norm and Direction"): the student's penultimate embedding should point along the teacher's class-mean
 * embedding of its class and be long. Formula and the lab's differences from the authors' code: docs/design.md
 * section 3 ("ND"). `nd` alone is CE + weight * nd; `nd+kd` is the paper's "KD++" (CE + KD + weight * nd).
 *
 * The class means are the teacher's embeddings (inference mode) averaged per class over the training split, once
 * per run, in float64; an unlabelled record counts for the teacher's predicted class (as the composition's
 * `targets` do). When the student's embedding is not the teacher's size, a learned linear projection (the
 * authors' EmbTrans, without its BatchNorm and dropout) maps it there; it trains with the student's optimizer
 * and is never part of the exported student.
 * Defaults from the authors' CIFAR-100 scripts (CIFAR/train_cifar.sh, KD++ for resnet56 -> resnet20:
 * 1.0 * CE + 1.0 * KD (T 4) + 2.0 * ND).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../../data/cifar10';
import { teacherFeatures } from '../anchors';
import { NORM_EPS } from '../losses';
import { combinedMethod, type ComponentSpec, singleMethod } from './compose';
import { initSeed, methodVariable, restoreVariables, variablesState } from './methodState';
import { kdComponent } from './kd';

/**
 * ND of a batch: mean over images of 1 - (s . c_y / |c_y|) / max(|s|, |t|), with s the student's (projected)
 * embedding, t the teacher's, c_y the teacher's class mean of the image's class.
 */
export function ndLoss(
  studentEmbedding: tf.Tensor2D,
  teacherEmbedding: tf.Tensor2D,
  unitCenters: tf.Tensor2D,
  targets: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const direction = tf.gather(unitCenters, targets);
    const projection = tf.sum(tf.mul(studentEmbedding, direction), 1);
    const norm = (x: tf.Tensor2D) => tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1), NORM_EPS * NORM_EPS));
    const longer = tf.maximum(norm(studentEmbedding), norm(teacherEmbedding));
    return tf.mean(tf.sub(1, tf.div(projection, longer))) as tf.Scalar;
  });
}

/**
 * The teacher's class means, each divided by its length: [classes, dim] row-major in float64 sums. `classOf`
 * gives each record's class; a class with no record gets a zero row (its images then add 1 to the loss, no
 * gradient).
 */
export function unitClassMeans(
  features: Float32Array,
  dim: number,
  classOf: (record: number) => number,
  numClasses: number,
): Float32Array {
  const sums = new Float64Array(numClasses * dim);
  const records = features.length / dim;
  for (let r = 0; r < records; r++) {
    const offset = classOf(r) * dim;
    for (let j = 0; j < dim; j++) sums[offset + j] = sums[offset + j]! + features[r * dim + j]!;
  }
  const out = new Float32Array(numClasses * dim);
  for (let c = 0; c < numClasses; c++) {
    let squared = 0;
    for (let j = 0; j < dim; j++) squared += sums[c * dim + j]! ** 2;
    // The count cancels in the direction, so the sum is normalised directly.
    const length = Math.sqrt(squared);
    if (length > 0) for (let j = 0; j < dim; j++) out[c * dim + j] = sums[c * dim + j]! / length;
  }
  return out;
}

/** The teacher's unit class means over a training split; labelled records by label, others by prediction. */
export async function teacherUnitCenters(
  teacher: tf.LayersModel,
  train: ImageSplit,
  labelled: Uint8Array,
  numClasses: number,
): Promise<tf.Tensor2D> {
  const { features, dim, predicted } = await teacherFeatures(teacher, train);
  const classOf = (r: number) => (labelled[r] ? train.labels[r]! : predicted[r]!);
  return tf.tensor2d(unitClassMeans(features, dim, classOf, numClasses), [numClasses, dim]);
}

export const ndComponent: ComponentSpec = {
  id: 'nd',
  setupNote: "computing the teacher's class means over the training split",
  params: [
    {
      name: 'weight',
      label: 'ND weight',
      default: 2,
      min: 0,
      max: 100,
      help: 'Weight of the norm-and-direction term (the authors: 2.0 for resnet56 -> resnet20 on CIFAR-100).',
    },
  ],
  async create({ student, teacher, train, labelled, numClasses, seed }, params) {
    const weight = params.weight!;
    const studentDim = student.outputs[1]!.shape[1] as number;
    const teacherDim = teacher.outputs[1]!.shape[1] as number;
    const centers = await teacherUnitCenters(teacher, train, labelled, numClasses);
    if (studentDim === teacherDim) {
      return {
        teacherOutputs: [1],
        forward({ student: s, teacher: t, targets }) {
          const nd = ndLoss(s[1] as tf.Tensor2D, t[1] as tf.Tensor2D, centers, targets);
          return { terms: { nd }, weighted: tf.mul(nd, weight) as tf.Scalar };
        },
        dispose: () => centers.dispose(),
      };
    }
    // nn.Linear's default kernel initialisation U(-1/sqrt(in), 1/sqrt(in)); bias zero as in the authors' EmbTrans.
    const bound = 1 / Math.sqrt(studentDim);
    const kernel = methodVariable(
      tf.randomUniform([studentDim, teacherDim], -bound, bound, 'float32', initSeed(seed, 301)),
      'nd/projection/kernel',
    );
    const bias = methodVariable(tf.zeros([teacherDim]), 'nd/projection/bias');
    const saved = { kernel, bias };
    return {
      withModel: [kernel, bias],
      kernels: [kernel],
      teacherOutputs: [1],
      forward({ student: s, teacher: t, targets }) {
        const projected = tf.add(tf.matMul(s[1] as tf.Tensor2D, kernel), bias) as tf.Tensor2D;
        const nd = ndLoss(projected, t[1] as tf.Tensor2D, centers, targets);
        return { terms: { nd }, weighted: tf.mul(nd, weight) as tf.Scalar };
      },
      state: () => variablesState(saved),
      restore: (state) => restoreVariables(saved, state),
      dispose: () => tf.dispose([kernel, bias, centers]),
    };
  },
};

export const ndMethod = singleMethod(
  {
    id: 'nd',
    label: 'ND (norm and direction)',
    summary: "Point the student's embedding along the teacher's class mean and make it long.",
    defaultsFrom: "Wang et al. 2023; the authors' CIFAR-100 script (ND weight 2.0, resnet56 -> resnet20)",
  },
  ndComponent,
);

/** KD as the authors' KD++ weighs it: KD weight 1.0 beside CE 1.0 (T 4). */
const kdForNd: ComponentSpec = {
  ...kdComponent,
  params: kdComponent.params.map((p) =>
    p.name === 'alpha'
      ? { ...p, default: 1, help: 'Weight of the soft term (the authors\u2019 KD++: 1.0, beside CE 1.0).' }
      : p,
  ),
};

export const ndKdMethod = combinedMethod(
  {
    id: 'nd+kd',
    label: 'ND + KD (KD++)',
    summary: "Hinton's soft targets plus the ND term, one cross-entropy: the paper's KD++.",
    defaultsFrom:
      "Wang et al. 2023; the authors' CIFAR-100 script for KD++ (CE 1.0, KD 1.0 at T 4, ND 2.0; no KD warm-up here)",
  },
  [ndComponent, kdForNd],
);
