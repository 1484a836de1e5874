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
 *
 * The values are those of the formulas above, and so is the gradient with respect to the student's features and
 * anchor features (to ~1e-6, akdLoss.test.ts), but the gradient is written out (akdTermsWithGradient) instead of
 * taped op by op: autodiff of the formulas ran 417 kernels per forward and backward, mostly per-op overhead on
 * [64, 64] and [64, 10] tensors; this runs 133. The teacher's features are constants here (no gradient flows to
 * them), as they are in every method.
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
    const terms = akdTermsWithGradient(teacherFeatures, teacherAnchorFeatures)(
      studentFeatures,
      studentAnchorFeatures,
    );
    const [l1, l2, l3] = tf.unstack(terms) as [tf.Scalar, tf.Scalar, tf.Scalar];
    const total = tf.sum(tf.mul(terms, tf.tensor1d([lambda1, 1 - lambda2, lambda2]))) as tf.Scalar;
    return { l1, l2, l3, total };
  });
}

/** Unit rows (l2NormaliseRows) and what the gradient needs of them. */
function unitRows(x: tf.Tensor2D) {
  const squaredNorm = tf.sum(tf.square(x), 1, true);
  const inverseNorm = tf.rsqrt(tf.maximum(squaredNorm, NORM_EPS * NORM_EPS));
  // 1 where the norm is above the floor (tfjs' Maximum passes the gradient to its first input on ties).
  const aboveFloor = tf.cast(tf.greaterEqual(squaredNorm, NORM_EPS * NORM_EPS), 'float32');
  return { unit: tf.mul(x, inverseNorm) as tf.Tensor2D, inverseNorm, aboveFloor };
}

/**
 * Gradient of x -> l2NormaliseRows(x) given dUnit: inverseNorm * (dUnit - unit * rowdot(dUnit, unit)) where the
 * norm is above the floor, inverseNorm * dUnit where it is floored (a constant divisor there).
 */
function unitRowsGradient(
  dUnit: tf.Tensor2D,
  { unit, inverseNorm, aboveFloor }: ReturnType<typeof unitRows>,
): tf.Tensor2D {
  const along = tf.mul(tf.sum(tf.mul(dUnit, unit), 1, true), aboveFloor);
  return tf.mul(tf.sub(dUnit, tf.mul(unit, along)), inverseNorm);
}

/**
 * [L1, L2, L3] as one [3] tensor of (studentFeatures, studentAnchorFeatures), with its gradient written out.
 *
 * Forward, as the module's conventions say. The kernels' "/ 2" is left out: both the entries and the row (or
 * column) sums are then exactly twice as large (a power of two), so every row-normalised distribution is
 * bit-identical. L3's anchors x batch kernel is the batch x anchors one normalised by columns (the KL sum over
 * all entries does not depend on the layout).
 *
 * Backward, for one KL sum L = sum Q log1p((Q - P) / (P + eps)) with P = K / rowsum(K):
 *   dL/dP = -Q / (P + eps),  dL/dK = (dL/dP - rowsum(dL/dP * P)) / rowsum(K)   (columns alike for L3),
 * then through the cosine products (dU = (dK + dK^T) U for U U^T; dU = dK V and dV = dK^T U for U V^T) and the
 * row normalisation (unitRowsGradient).
 */
function akdTermsWithGradient(teacherFeatures: tf.Tensor2D, teacherAnchorFeatures: tf.Tensor2D) {
  // customGrad's callback takes (...inputs, save) as one list of Tensor | GradSaveFunc.
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [studentFeatures, studentAnchorFeatures, save] = args as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.GradSaveFunc,
    ];
    const batchKernel = (unit: tf.Tensor2D) => tf.add(tf.matMul(unit, unit, false, true), 1) as tf.Tensor2D;
    const anchorKernel = (unit: tf.Tensor2D, anchorUnit: tf.Tensor2D) =>
      tf.add(tf.matMul(unit, anchorUnit, false, true), 1) as tf.Tensor2D;
    const byRows = (k: tf.Tensor2D) => tf.sum(k, 1, true);
    const byColumns = (k: tf.Tensor2D) => tf.sum(k, 0, true);
    const klSum = (pTeacher: tf.Tensor2D, pStudent: tf.Tensor2D) => tf.sum(klTerms(pTeacher, pStudent));

    const teacherUnit = l2NormaliseRows(teacherFeatures);
    const teacherAnchorUnit = l2NormaliseRows(teacherAnchorFeatures);
    const student = unitRows(studentFeatures);
    const anchors = unitRows(studentAnchorFeatures);

    const kTeacherBatch = batchKernel(teacherUnit);
    const q1 = tf.div(kTeacherBatch, byRows(kTeacherBatch)) as tf.Tensor2D;
    const kStudentBatch = batchKernel(student.unit);
    const rowSums1 = byRows(kStudentBatch);
    const p1 = tf.div(kStudentBatch, rowSums1) as tf.Tensor2D;

    const kTeacherAnchors = anchorKernel(teacherUnit, teacherAnchorUnit);
    const q2 = tf.div(kTeacherAnchors, byRows(kTeacherAnchors)) as tf.Tensor2D;
    const q3 = tf.div(kTeacherAnchors, byColumns(kTeacherAnchors)) as tf.Tensor2D;
    const kStudentAnchors = anchorKernel(student.unit, anchors.unit);
    const rowSums2 = byRows(kStudentAnchors);
    const columnSums3 = byColumns(kStudentAnchors);
    const p2 = tf.div(kStudentAnchors, rowSums2) as tf.Tensor2D;
    const p3 = tf.div(kStudentAnchors, columnSums3) as tf.Tensor2D;

    const value = tf.stack([klSum(q1, p1), klSum(q2, p2), klSum(q3, p3)]);
    // prettier-ignore
    save([
      student.unit, student.inverseNorm, student.aboveFloor, anchors.unit, anchors.inverseNorm, anchors.aboveFloor,
      q1, p1, rowSums1, q2, p2, rowSums2, q3, p3, columnSums3,
    ]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sUnit, sInverse, sAbove, aUnit, aInverse, aAbove, ...kl] = saved as tf.Tensor2D[];
      const [sq1, sp1, sRows1, sq2, sp2, sRows2, sq3, sp3, sColumns3] = kl as tf.Tensor2D[];
      const [w1, w2, w3] = tf.unstack(dy);
      // dL/dK of w * sum KL(Q || K / sums(K)), sums along `axis` (1: rows, 0: columns).
      const kernelGradient = (
        w: tf.Tensor,
        q: tf.Tensor2D,
        p: tf.Tensor2D,
        sums: tf.Tensor2D,
        axis: 0 | 1,
      ) => {
        const dP = tf.mul(tf.div(q, tf.add(p, KL_EPS)), tf.neg(w));
        return tf.div(tf.sub(dP, tf.sum(tf.mul(dP, p), axis, true)), sums) as tf.Tensor2D;
      };
      const dBatch = kernelGradient(w1!, sq1!, sp1!, sRows1!, 1);
      const dAnchors = tf.add(
        kernelGradient(w2!, sq2!, sp2!, sRows2!, 1),
        kernelGradient(w3!, sq3!, sp3!, sColumns3!, 0),
      ) as tf.Tensor2D;
      const dStudentUnit = tf.add(
        tf.matMul(tf.add(dBatch, tf.transpose(dBatch)), sUnit!),
        tf.matMul(dAnchors, aUnit!),
      ) as tf.Tensor2D;
      const dAnchorUnit = tf.matMul(dAnchors, sUnit!, true, false) as tf.Tensor2D;
      return [
        unitRowsGradient(dStudentUnit, { unit: sUnit!, inverseNorm: sInverse!, aboveFloor: sAbove! }),
        unitRowsGradient(dAnchorUnit, { unit: aUnit!, inverseNorm: aInverse!, aboveFloor: aAbove! }),
      ];
    };
    return { value, gradFunc };
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
