/**
 * AT, attention transfer (Zagoruyko & Komodakis 2017, "Paying more attention to attention"): per stage, the
 * attention map a(f) = L2-normalised flatten(mean over channels of f^p); `at` = sum over stage pairs of
 * mean((a(s) - a(t))^2); total = CE + weight * at.
 * Defaults from RepDistiller (--distill attention: p = 2, -r 1 -a 0 -b 1000, every stage of the student).
 * Stages are paired by spatial size (a teacher with an extra stage, like VGG-BN's fourth, leaves it out); a
 * student stage with no teacher stage of its size takes the teacher's stage at the same position, its map
 * resized bilinearly.
 */
import * as tf from '@tensorflow/tfjs';
import { NORM_EPS } from '../losses';
import { resizeBilinear } from '../resize';
import { type ComponentSpec, singleMethod, stageShapes } from './compose';

/** For each student stage, the index of its teacher stage. */
export function pairStages(student: tf.LayersModel, teacher: tf.LayersModel): number[] {
  const s = stageShapes(student);
  const t = stageShapes(teacher);
  if (!s.length || !t.length) throw new Error('attention transfer needs stage outputs from both models');
  return s.map(([h, w], i) => {
    const same = t.findIndex(([th, tw]) => th === h && tw === w);
    return same >= 0 ? same : Math.min(i, t.length - 1);
  });
}

/** mean over channels of |f|^p, [batch, h, w, 1]. */
const attentionSum = (f: tf.Tensor4D, p: number) =>
  tf.mean(p === 2 ? tf.square(f) : tf.pow(tf.abs(f), p), 3, true) as tf.Tensor4D;

/** Rows L2-normalised as F.normalize does (the norm floored, here at NORM_EPS). */
const normaliseRows = (x: tf.Tensor2D) =>
  tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), NORM_EPS * NORM_EPS))) as tf.Tensor2D;

export const atComponent: ComponentSpec = {
  id: 'at',
  params: [
    {
      name: 'weight',
      label: 'AT weight beta',
      default: 1000,
      min: 0,
      max: 100_000,
      help: 'Weight of the attention-map loss summed over stages (RepDistiller: -b 1000).',
    },
    {
      name: 'p',
      label: 'Power p',
      default: 2,
      min: 1,
      max: 4,
      help: 'Attention map = mean over channels of |f|^p (the paper and RepDistiller: 2).',
    },
  ],
  async create({ student, teacher }, params) {
    const weight = params.weight!;
    const p = params.p!;
    const pairs = pairStages(student, teacher);
    return {
      teacherOutputs: pairs.map((teacherStage) => 2 + teacherStage),
      forward({ student: s, teacher: t }) {
        const losses = pairs.map((teacherStage, i) => {
          const fs = s[2 + i] as tf.Tensor4D;
          let mt = attentionSum(t[2 + teacherStage] as tf.Tensor4D, p);
          const [b, h, w] = fs.shape;
          if (mt.shape[1] !== h || mt.shape[2] !== w) mt = resizeBilinear(mt, [h, w]);
          const as = normaliseRows(tf.reshape(attentionSum(fs, p), [b, h * w]));
          const at = normaliseRows(tf.reshape(mt, [b, h * w]));
          return tf.mean(tf.squaredDifference(as, at)) as tf.Scalar;
        });
        const at = tf.addN(losses) as tf.Scalar;
        return { terms: { at }, weighted: tf.mul(at, weight) as tf.Scalar };
      },
    };
  },
};

export const atMethod = singleMethod(
  {
    id: 'at',
    label: 'Attention transfer',
    summary:
      "Match the teacher's spatial attention maps (channel-pooled squared activations) at every stage.",
    defaultsFrom: 'Zagoruyko & Komodakis 2017; RepDistiller (p = 2, weight 1000)',
  },
  atComponent,
);
