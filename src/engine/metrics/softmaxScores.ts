/**
 * The softmax baselines of out-of-distribution detection, one uncertainty score per image from its logits
 * (docs/design.md, "Out-of-distribution and calibration"). Every score: higher = more uncertain, so that OoD
 * is the positive class of auroc/aupr/fpr95. Logits [n, classes] in, scores [n] out; the caller disposes.
 */
import * as tf from '@tensorflow/tfjs';

function checkLogits(name: string, logits: tf.Tensor): void {
  if (logits.rank !== 2 || (logits.shape[1] ?? 0) < 1)
    throw new Error(`${name} needs logits of shape [n, classes]; got [${logits.shape.join(', ')}]`);
}

/**
 * MSP (Hendrycks & Gimpel 2017): 1 - max softmax probability. Computed as r / (1 + r), r = sum over the other
 * classes of exp(l_j - l_max): 1 - p_max directly loses most float32 digits for a confident image.
 */
export function mspScore(logits: tf.Tensor2D): tf.Tensor1D {
  checkLogits('mspScore', logits);
  return tf.tidy(() => {
    const top = tf.argMax(logits, 1);
    const others = tf.sub(1, tf.oneHot(top, logits.shape[1]));
    const shifted = tf.exp(tf.sub(logits, tf.max(logits, 1, true)));
    const rest = tf.sum(tf.mul(shifted, others), 1);
    return tf.div(rest, tf.add(rest, 1));
  });
}

/** Softmax entropy, -sum p log p in nats; computed from log-softmax so that p = 0 adds 0, not NaN. */
export function entropyScore(logits: tf.Tensor2D): tf.Tensor1D {
  checkLogits('entropyScore', logits);
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(logP), logP), 1));
  });
}

/** Energy (Liu et al. 2020) at T = 1: -logsumexp(logits). */
export function energyScore(logits: tf.Tensor2D): tf.Tensor1D {
  checkLogits('energyScore', logits);
  return tf.tidy(() => tf.neg(tf.logSumExp(logits, 1)));
}
