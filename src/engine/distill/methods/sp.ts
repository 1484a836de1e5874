/**
 * SP, similarity-preserving KD (Tung & Mori 2019): on the last stage's feature maps, the batch's Gram matrix
 * G = f f^T of flattened maps, rows L2-normalised; `sp` = sum((G_t - G_s)^2) / batch^2; total = CE + weight * sp.
 * Defaults from RepDistiller (--distill similarity: the last stage, -r 1 -a 0 -b 3000).
 */
import * as tf from '@tensorflow/tfjs';
import { NORM_EPS } from '../losses';
import { type ComponentSpec, singleMethod, stageShapes } from './compose';

/** Row-normalised batch Gram matrix of flattened feature maps, [batch, batch]. */
export function similarityMatrix(f: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const flat = tf.reshape(f, [f.shape[0]!, -1]) as tf.Tensor2D;
    const g = tf.matMul(flat, flat, false, true);
    return tf.mul(g, tf.rsqrt(tf.maximum(tf.sum(tf.square(g), 1, true), NORM_EPS * NORM_EPS))) as tf.Tensor2D;
  });
}

export const spComponent: ComponentSpec = {
  id: 'sp',
  params: [
    {
      name: 'weight',
      label: 'SP weight gamma',
      default: 3000,
      min: 0,
      max: 100_000,
      help: 'Weight of the similarity-matrix loss on the last stage (RepDistiller: -b 3000).',
    },
  ],
  async create({ student, teacher }, params) {
    const weight = params.weight!;
    const studentStage = stageShapes(student).length - 1;
    const teacherStage = stageShapes(teacher).length - 1;
    if (studentStage < 0 || teacherStage < 0) throw new Error('SP needs stage outputs from both models');
    return {
      teacherOutputs: [2 + teacherStage],
      forward({ student: s, teacher: t }) {
        const gs = similarityMatrix(s[2 + studentStage]!);
        const gt = similarityMatrix(t[2 + teacherStage]!);
        const b = gs.shape[0];
        const sp = tf.div(tf.sum(tf.squaredDifference(gt, gs)), b * b) as tf.Scalar;
        return { terms: { sp }, weighted: tf.mul(sp, weight) as tf.Scalar };
      },
    };
  },
};

export const spMethod = singleMethod(
  {
    id: 'sp',
    label: 'Similarity-preserving',
    summary: 'Preserve which images of a batch the teacher finds similar (row-normalised Gram matrices).',
    defaultsFrom: 'Tung & Mori 2019; RepDistiller (last stage, weight 3000)',
  },
  spComponent,
);
