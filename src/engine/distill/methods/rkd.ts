/**
 * RKD, relational KD (Park et al. 2019): on the penultimate features, `distance` = smooth-L1 between the
 * student's and teacher's pairwise distances, each divided by its mean over distinct pairs; `angle` = smooth-L1
 * between the cosines of the angles of every triplet; total = CE + distanceWeight * distance + angleWeight *
 * angle. Defaults from RepDistiller (--distill rkd: RKDLoss w_d = 25, w_a = 50, -r 1 -a 0 -b 1). The teacher's
 * side is a constant, as RepDistiller computes it under no_grad.
 */
import * as tf from '@tensorflow/tfjs';
import { NORM_EPS } from '../losses';
import { stopGradient } from '../method';
import { type ComponentSpec, singleMethod } from './compose';

/** Smooth L1 (Huber with beta 1), mean over entries: PyTorch's F.smooth_l1_loss. */
function smoothL1(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  // 0.5 d^2 below 1, d - 0.5 above, written without a comparison op (tfjs has no gradient for one).
  const d = tf.abs(tf.sub(a, b));
  const small = tf.minimum(d, 1);
  return tf.mean(tf.add(tf.mul(tf.square(small), 0.5), tf.sub(d, small))) as tf.Scalar;
}

/** Euclidean distances of every row pair, the diagonal 0, divided by the mean of the positive ones. */
function normalisedDistances(e: tf.Tensor2D): tf.Tensor2D {
  const n = e.shape[0];
  const sq = tf.sum(tf.square(e), 1);
  const squared = tf.sub(
    tf.add(tf.expandDims(sq, 1), tf.expandDims(sq, 0)),
    tf.mul(tf.matMul(e, e, false, true), 2),
  );
  const offDiagonal = tf.sub(1, tf.eye(n));
  const d = tf.mul(tf.sqrt(tf.maximum(squared, 1e-12)), offDiagonal);
  // Mean over the positive distances (RepDistiller's d[d > 0].mean()); the count is not differentiated.
  const positives = stopGradient(() => tf.maximum(tf.sum(tf.cast(tf.greater(d, 0), 'float32')), 1));
  const mean = tf.div(tf.sum(d), positives);
  return tf.div(d, mean) as tf.Tensor2D;
}

/** cos of the angle at i between j and k, for every (i, j, k): [n, n, n]. */
function angles(e: tf.Tensor2D): tf.Tensor3D {
  const diff = tf.sub(tf.expandDims(e, 0), tf.expandDims(e, 1)) as tf.Tensor3D;
  const unit = tf.mul(diff, tf.rsqrt(tf.maximum(tf.sum(tf.square(diff), 2, true), NORM_EPS * NORM_EPS)));
  return tf.matMul(unit, unit, false, true) as tf.Tensor3D;
}

export const rkdComponent: ComponentSpec = {
  id: 'rkd',
  params: [
    {
      name: 'distanceWeight',
      label: 'Distance weight',
      default: 25,
      min: 0,
      max: 1000,
      help: 'Weight of the pairwise-distance term on penultimate features (RepDistiller: 25).',
    },
    {
      name: 'angleWeight',
      label: 'Angle weight',
      default: 50,
      min: 0,
      max: 1000,
      help: 'Weight of the triplet-angle term on penultimate features (RepDistiller: 50).',
    },
  ],
  async create(_context, params) {
    const distanceWeight = params.distanceWeight!;
    const angleWeight = params.angleWeight!;
    return {
      teacherOutputs: [1],
      forward({ student: s, teacher: t }) {
        const fs = s[1] as tf.Tensor2D;
        const ft = t[1] as tf.Tensor2D;
        const distance = smoothL1(normalisedDistances(fs), normalisedDistances(ft));
        const angle = smoothL1(angles(fs), angles(ft));
        return {
          terms: { distance, angle },
          weighted: tf.add(tf.mul(distance, distanceWeight), tf.mul(angle, angleWeight)) as tf.Scalar,
        };
      },
    };
  },
};

export const rkdMethod = singleMethod(
  {
    id: 'rkd',
    label: 'Relational KD',
    summary: 'Match the distances and angles between the images of a batch in feature space.',
    defaultsFrom: 'Park et al. 2019; RepDistiller (distance 25, angle 50)',
  },
  rkdComponent,
);
