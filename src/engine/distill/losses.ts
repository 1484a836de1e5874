/**
 * Distillation losses and the anchor uncertainty, as differentiable tfjs ops. Conventions (they match the
 * float64 PyTorch 1.13 values in `reference/losses-and-metrics.json`, the project's shared reference, to about
 * 1e-4 relative in float32; see `losses.test.ts`):
 *
 * - KD (Hinton et al.): `soft` = T^2 * KL(softmax(t/T) || softmax(s/T)), summed over classes, mean over the
 *   batch; `hard` = cross-entropy of the student logits with the labels, mean over the batch;
 *   `total` = alpha * soft + (1 - alpha) * hard. Both terms use logSoftmax, never log(softmax).
 * - Kernel (shared by PKT, AKD and the uncertainty): rows L2-normalised (a zero row stays zero: the squared
 *   norm is floored at NORM_EPS^2), K(a, b) = (cos(a, b) + 1) / 2, in [0, 1].
 * - Row normalisation: each kernel row divided by its row sum, so every row is a distribution.
 * - KL term: P_t * log((P_t + 1e-7) / (P_s + 1e-7)) per entry, evaluated as
 *   P_t * log1p((P_t - P_s) / (P_s + 1e-7)): the same value without the float32 cancellation of two nearly
 *   equal logs.
 * - PKT (Passalis & Tefas): the KL term over batch x batch, MEAN over all entries.
 * - AKD: the KL term SUMMED over all entries. L1: batch x batch. L2: batch x anchors (student batch against the
 *   student's anchor features, teacher batch against the teacher's), rows normalised over the anchors.
 *   L3: anchors x batch, the transposed kernel, each anchor's row normalised over the batch.
 *   `total` = lambda1 * L1 + (1 - lambda2) * L2 + lambda2 * L3.
 * - Anchor uncertainty: 1 - max over anchors of K(feature, anchor feature), one value per sample.
 *
 * Every function runs inside tf.tidy (only its outputs survive), reads no tensor data, and is differentiable
 * with tf.grad / tf.variableGrads with respect to the student's inputs.
 */
import * as tf from '@tensorflow/tfjs';

/** Floor on a row's L2 norm, so a zero feature row normalises to zero instead of NaN (also in gradients). */
export const NORM_EPS = 1e-6;
/** The epsilon added to both distributions inside the log of the PKT / AKD KL term. */
export const KL_EPS = 1e-7;

export interface KdOptions {
  /** Softening temperature T (> 0). */
  readonly temperature: number;
  /** Weight of the soft term; the hard term gets 1 - alpha. */
  readonly alpha: number;
}

/** A type alias rather than an interface, so that it is a tf.TensorContainer (tf.dispose(terms) works). */
export type KdLossTerms = {
  readonly soft: tf.Scalar;
  readonly hard: tf.Scalar;
  readonly total: tf.Scalar;
};

export interface AkdOptions {
  /** Weight of L1, the batch x batch term. */
  readonly lambda1: number;
  /** Split between L2 (weight 1 - lambda2) and L3 (weight lambda2). */
  readonly lambda2: number;
}

/** A type alias rather than an interface, so that it is a tf.TensorContainer (tf.dispose(terms) works). */
export type AkdLossTerms = {
  readonly l1: tf.Scalar;
  readonly l2: tf.Scalar;
  readonly l3: tf.Scalar;
  readonly total: tf.Scalar;
};

function expectRank2(name: string, x: tf.Tensor): void {
  if (x.rank !== 2) throw new Error(`${name} must be [rows, dim], got shape [${x.shape.join(', ')}]`);
}

function expectSameRows(names: string, a: tf.Tensor, b: tf.Tensor): void {
  if (a.shape[0] !== b.shape[0])
    throw new Error(`${names} must have the same number of rows, got ${a.shape[0]} and ${b.shape[0]}`);
}

/** Rows scaled to unit L2 norm; a zero row stays zero. */
function l2NormaliseRows(x: tf.Tensor2D): tf.Tensor2D {
  const squaredNorm = tf.sum(tf.square(x), 1, true);
  return tf.mul(x, tf.rsqrt(tf.maximum(squaredNorm, NORM_EPS * NORM_EPS)));
}

/** K(a_i, b_j) = (cos(a_i, b_j) + 1) / 2 for every row pair: [rows of a, rows of b], values in [0, 1]. */
export function cosineKernel(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const cos = tf.matMul(l2NormaliseRows(a), l2NormaliseRows(b), false, true);
    return tf.div(tf.add(cos, 1), 2);
  });
}

/** Each row divided by its sum, so that every row is a probability distribution. */
export function rowNormalise(k: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(k, tf.sum(k, 1, true)));
}

/** Per-entry P_t * log((P_t + eps) / (P_s + eps)); not reduced. */
function klTerms(pTeacher: tf.Tensor2D, pStudent: tf.Tensor2D): tf.Tensor2D {
  const ratioMinusOne = tf.div(tf.sub(pTeacher, pStudent), tf.add(pStudent, KL_EPS));
  return tf.mul(pTeacher, tf.log1p(ratioMinusOne));
}

/**
 * Hinton's KD loss: `soft` = T^2 * KL(softmax(t/T) || softmax(s/T)) (sum over classes, mean over batch),
 * `hard` = cross-entropy with the labels (mean over batch), `total` = alpha * soft + (1 - alpha) * hard.
 * `labels` are class indices, as an int32 tensor or a plain array.
 */
export function kdLoss(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  labels: tf.Tensor1D | readonly number[],
  { temperature, alpha }: KdOptions,
): KdLossTerms {
  expectRank2('studentLogits', studentLogits);
  if (!tf.util.arraysEqual(studentLogits.shape, teacherLogits.shape))
    throw new Error(
      `student and teacher logits must have the same shape, got [${studentLogits.shape.join(', ')}] and [${teacherLogits.shape.join(', ')}]`,
    );
  const count = Array.isArray(labels) ? labels.length : (labels as tf.Tensor1D).size;
  if (count !== studentLogits.shape[0])
    throw new Error(`expected ${studentLogits.shape[0]} labels, got ${count}`);
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  const classes = studentLogits.shape[1];
  return tf.tidy(() => {
    const logPTeacher = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const logPStudent = tf.logSoftmax(tf.div(studentLogits, temperature));
    const klPerSample = tf.sum(tf.mul(tf.exp(logPTeacher), tf.sub(logPTeacher, logPStudent)), 1);
    const soft = tf.mul(tf.mean(klPerSample), temperature * temperature) as tf.Scalar;

    const labelTensor = Array.isArray(labels)
      ? tf.tensor1d(labels as number[], 'int32')
      : (labels as tf.Tensor1D).dtype === 'int32'
        ? (labels as tf.Tensor1D)
        : tf.cast(labels as tf.Tensor1D, 'int32');
    const oneHot = tf.oneHot(labelTensor, classes);
    const hard = tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(studentLogits)), 1))) as tf.Scalar;

    const total = tf.add(tf.mul(soft, alpha), tf.mul(hard, 1 - alpha)) as tf.Scalar;
    return { soft, hard, total };
  });
}

/**
 * PKT: row-normalised cosine kernels of the batch with itself, for student and teacher, compared by the KL term,
 * MEAN over all batch x batch entries. Student and teacher dims may differ; their batch sizes may not.
 */
export function pktLoss(studentFeatures: tf.Tensor2D, teacherFeatures: tf.Tensor2D): tf.Scalar {
  expectRank2('studentFeatures', studentFeatures);
  expectRank2('teacherFeatures', teacherFeatures);
  expectSameRows('student and teacher features', studentFeatures, teacherFeatures);
  return tf.tidy(() => {
    const pStudent = rowNormalise(cosineKernel(studentFeatures, studentFeatures));
    const pTeacher = rowNormalise(cosineKernel(teacherFeatures, teacherFeatures));
    return tf.mean(klTerms(pTeacher, pStudent)) as tf.Scalar;
  });
}

/**
 * Anchor-based KD: the KL term SUMMED over batch x batch (L1), batch x anchors (L2) and anchors x batch (L3),
 * each side against its own anchor features; `total` = lambda1 * L1 + (1 - lambda2) * L2 + lambda2 * L3.
 */
export function akdLoss(
  studentFeatures: tf.Tensor2D,
  teacherFeatures: tf.Tensor2D,
  studentAnchorFeatures: tf.Tensor2D,
  teacherAnchorFeatures: tf.Tensor2D,
  { lambda1, lambda2 }: AkdOptions,
): AkdLossTerms {
  expectRank2('studentFeatures', studentFeatures);
  expectRank2('teacherFeatures', teacherFeatures);
  expectRank2('studentAnchorFeatures', studentAnchorFeatures);
  expectRank2('teacherAnchorFeatures', teacherAnchorFeatures);
  expectSameRows('student and teacher features', studentFeatures, teacherFeatures);
  expectSameRows('student and teacher anchor features', studentAnchorFeatures, teacherAnchorFeatures);
  return tf.tidy(() => {
    const sumKl = (pTeacher: tf.Tensor2D, pStudent: tf.Tensor2D) =>
      tf.sum(klTerms(pTeacher, pStudent)) as tf.Scalar;

    const l1 = sumKl(
      rowNormalise(cosineKernel(teacherFeatures, teacherFeatures)),
      rowNormalise(cosineKernel(studentFeatures, studentFeatures)),
    );
    const kStudent = cosineKernel(studentFeatures, studentAnchorFeatures);
    const kTeacher = cosineKernel(teacherFeatures, teacherAnchorFeatures);
    const l2 = sumKl(rowNormalise(kTeacher), rowNormalise(kStudent));
    const l3 = sumKl(rowNormalise(tf.transpose(kTeacher)), rowNormalise(tf.transpose(kStudent)));

    const total = tf.addN([tf.mul(l1, lambda1), tf.mul(l2, 1 - lambda2), tf.mul(l3, lambda2)]) as tf.Scalar;
    return { l1, l2, l3, total };
  });
}

/** Per sample: 1 - max over anchors of K(feature, anchor feature); higher means farther from every anchor. */
export function anchorUncertainty(features: tf.Tensor2D, anchorFeatures: tf.Tensor2D): tf.Tensor1D {
  expectRank2('features', features);
  expectRank2('anchorFeatures', anchorFeatures);
  if (features.shape[1] !== anchorFeatures.shape[1])
    throw new Error(
      `features and anchor features must have the same dim, got ${features.shape[1]} and ${anchorFeatures.shape[1]}`,
    );
  return tf.tidy(() => tf.sub(1, tf.max(cosineKernel(features, anchorFeatures), 1)) as tf.Tensor1D);
}
