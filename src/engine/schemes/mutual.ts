/**
 * Deep mutual learning (Zhang et al. 2018): K students (2-4) trained from scratch in the same steps, each on
 *   CE + weight x mean over the others j of T^2 KL(softmax(z_j / T) detached || softmax(z_k / T)),
 * the KL being KD's soft term (losses.ts kdLoss) with the other student's logits, detached, in the teacher's
 * place. Default T = 1, the paper's (peers trained from scratch have no over-confident teacher softmax to
 * soften); `--param temperature=3` runs the guide's choice (why, and what was measured: docs/design.md,
 * "Schemes"). weight 0 trains the same students with the same seeds independently (the baseline; the KL is
 * still reported).
 */
import * as tf from '@tensorflow/tfjs';
import { kdLoss } from '../distill/losses';
import { type MethodParam, stopGradient } from '../distill/method';
import type { LossTerms } from '../training/trainer';
import type { MultiSchemeDef } from './multiRun';
import { plainTerms } from './multiTrainer';

export const MUTUAL_PARAMS: readonly MethodParam[] = [
  {
    name: 'temperature',
    label: 'Temperature T',
    default: 1,
    min: 0.5,
    max: 20,
    help: 'Softens both softmaxes of the mutual KL, scaled by T^2 (Zhang et al. 2018: 1; the KD guide: 3).',
  },
  {
    name: 'weight',
    label: 'Mutual weight',
    default: 1,
    min: 0,
    max: 10,
    help: 'Weight of the mean KL to the other students; 0 trains them independently (the baseline).',
  },
];

/** A copy of `x` that is a constant to any enclosing gradient (the other student's detached logits). */
export const detached = <T extends tf.Tensor>(x: T): T => stopGradient(() => tf.clone(x));

/**
 * The mutual KL of each student: for student k, the mean over j != k of T^2 KL(softmax(z_j/T) || softmax(z_k/T))
 * with z_j detached. One scalar per student, in order.
 */
export function mutualKl(
  logits: readonly tf.Tensor2D[],
  labels: tf.Tensor1D,
  temperature: number,
): tf.Scalar[] {
  if (logits.length < 2) throw new Error(`mutual learning needs at least 2 students; got ${logits.length}`);
  return tf.tidy(() => {
    const constants = logits.map((z) => detached(z));
    return logits.map((own, k) => {
      const others = constants.filter((_, j) => j !== k);
      const kls = others.map((other) => kdLoss(own, other, labels, { temperature, alpha: 1 }).soft);
      return tf.div(tf.addN(kls), others.length) as tf.Scalar;
    });
  });
}

export const mutualScheme: MultiSchemeDef = {
  id: 'mutual',
  params: MUTUAL_PARAMS,
  create(members, params) {
    const temperature = params.temperature!;
    const weight = params.weight!;
    return {
      extra: {},
      loss: ({ images, labels, training }) =>
        tf.tidy(() => {
          const logits = members.map(
            (m) => (m.model.apply(images, { training }) as tf.Tensor[])[0] as tf.Tensor2D,
          );
          const kls = mutualKl(logits, labels, temperature);
          const out: Record<string, { terms: LossTerms; logits: tf.Tensor2D }> = {};
          members.forEach((m, k) => {
            const { ce, weightDecay } = plainTerms(m.model, logits[k]!, labels, m.config.weightDecay);
            const kl = kls[k]!;
            const total = tf.addN([ce, tf.mul(kl, weight), weightDecay]) as tf.Scalar;
            out[m.name] = { terms: { ce, kl, weightDecay, total }, logits: logits[k]! };
          });
          return out;
        }),
      async state() {
        return {};
      },
      restore() {},
      dispose() {},
    };
  },
};
