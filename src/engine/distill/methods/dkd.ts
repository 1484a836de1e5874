/**
 * DKD, decoupled KD (Zhao et al. 2022, "Decoupled knowledge distillation"), as mdistiller's `dkd_loss`:
 * `tckd` = T^2 * KL over the binary split (target class, all other classes) of the softened softmaxes;
 * `nckd` = T^2 * KL between the softened softmaxes over the non-target classes only (target logit - 1000);
 * both mean over the batch; total = CE + min(epoch / warmupEpochs, 1) * (alpha * tckd + beta * nckd), epochs
 * counted from 1 as mdistiller does.
 * Defaults from mdistiller's CIFAR-100 config (configs/cifar100/dkd: CE_WEIGHT 1, ALPHA 1, BETA 8, T 4,
 * WARMUP 20). The warm-up is in epochs: with a short browser run, lower it. For an unlabelled image the target
 * class is the teacher's prediction.
 */
import * as tf from '@tensorflow/tfjs';
import { type ComponentSpec, singleMethod } from './compose';
import { counterState, readCounter } from './methodState';

/** mdistiller's mask offset: the target logit minus 1000 leaves it out of a softmax. */
const MASK_OFFSET = 1000;

/** TCKD and NCKD of a batch, unweighted (each already times T^2, mean over the batch). */
export function dkdTerms(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  targets: tf.Tensor1D,
  temperature: number,
): { tckd: tf.Scalar; nckd: tf.Scalar } {
  return tf.tidy(() => {
    const gt = tf.oneHot(targets, studentLogits.shape[1]);
    const offset = tf.mul(gt, MASK_OFFSET);
    const scale = temperature * temperature;
    /** log p(target), log p(others) of softmax(z), from log-sum-exps (no log of a rounded-to-0 probability). */
    const binaryLog = (z: tf.Tensor2D) => {
      const all = tf.logSumExp(z, 1, true);
      const target = tf.sum(tf.mul(z, gt), 1, true);
      const others = tf.logSumExp(tf.sub(z, offset), 1, true);
      return tf.sub(tf.concat([target, others], 1), all);
    };
    const zs = tf.div(studentLogits, temperature) as tf.Tensor2D;
    const zt = tf.div(teacherLogits, temperature) as tf.Tensor2D;
    const kl = (logP: tf.Tensor, logQ: tf.Tensor) =>
      tf.mul(tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1)), scale) as tf.Scalar;
    const tckd = kl(binaryLog(zt), binaryLog(zs));
    const nckd = kl(tf.logSoftmax(tf.sub(zt, offset)), tf.logSoftmax(tf.sub(zs, offset)));
    return { tckd, nckd };
  });
}

export const dkdComponent: ComponentSpec = {
  id: 'dkd',
  params: [
    {
      name: 'alpha',
      label: 'TCKD weight alpha',
      default: 1,
      min: 0,
      max: 10,
      help: 'Weight of the target-class term (mdistiller: 1).',
    },
    {
      name: 'beta',
      label: 'NCKD weight beta',
      default: 8,
      min: 0,
      max: 100,
      help: 'Weight of the non-target-class term (mdistiller CIFAR: 8).',
    },
    {
      name: 'temperature',
      label: 'Temperature T',
      default: 4,
      min: 0.5,
      max: 20,
      help: 'Softmax temperature; both terms are scaled by T^2 (mdistiller: 4).',
    },
    {
      name: 'warmupEpochs',
      label: 'Warm-up epochs',
      default: 20,
      min: 0,
      max: 1000,
      integer: true,
      help: 'DKD weight ramps as epoch / warm-up (mdistiller: 20 of 240 epochs; lower it for short runs).',
    },
  ],
  async create({ stepsPerEpoch }, params) {
    const { alpha, beta, temperature, warmupEpochs } = params as Record<string, number>;
    /** Training steps taken, for the warm-up; kept in the run state so a resumed run continues the ramp. */
    let steps = 0;
    return {
      teacherOutputs: [0],
      forward({ student, teacher, targets, training }) {
        const epoch = Math.floor(steps / stepsPerEpoch) + 1;
        if (training) steps += 1;
        const ramp = warmupEpochs! > 0 ? Math.min(epoch / warmupEpochs!, 1) : 1;
        const { tckd, nckd } = dkdTerms(
          student[0] as tf.Tensor2D,
          teacher[0] as tf.Tensor2D,
          targets,
          temperature!,
        );
        const weighted = tf.mul(tf.add(tf.mul(tckd, alpha!), tf.mul(nckd, beta!)), ramp) as tf.Scalar;
        return { terms: { tckd, nckd }, weighted };
      },
      async describe() {
        return { steps };
      },
      async state() {
        return { steps: counterState(steps) };
      },
      restore(state) {
        steps = readCounter(state, 'steps');
      },
    };
  },
};

export const dkdMethod = singleMethod(
  {
    id: 'dkd',
    label: 'Decoupled KD',
    summary: 'KD split into a target-class term and a non-target-class term, weighted separately.',
    defaultsFrom: 'Zhao et al. 2022; mdistiller CIFAR config (alpha 1, beta 8, T 4, warm-up 20 epochs)',
  },
  dkdComponent,
);
