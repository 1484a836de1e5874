/**
 * Coupled L2 weight decay as a loss term, 0.5 * wd * sum of the kernels' squares (PyTorch's SGD weight_decay:
 * its gradient adds wd * w), in one place for the trainer, the distillation losses and the schemes.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * sum(w^2), whose gradient is one multiply, w (2 dy). tfjs's own Sum gradient tiles dy over a ones tensor that it
 * fills in JS, for every kernel at every step, before Square's gradient multiplies twice more: three passes and a
 * JS fill where one pass does. The same bits: dy (2 w) and w (2 dy) are one rounding of the same exact product.
 */
// customGrad's callback takes (...inputs, save) as one list of Tensor | GradSaveFunc.
const sumOfSquares = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [w, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([w]);
  return {
    value: tf.sum(tf.square(w)),
    gradFunc: (dy: tf.Tensor, [kept]: tf.Tensor[]) => tf.mul(kept!, tf.mul(dy, 2)),
  };
}) as (w: tf.Tensor) => tf.Scalar;

/** 0.5 * weightDecay * the sum of every kernel's squares (0 for no kernels). */
export function weightDecayTerm(kernels: readonly tf.Tensor[], weightDecay: number): tf.Scalar {
  if (!kernels.length) return tf.scalar(0);
  return tf.mul(0.5 * weightDecay, tf.addN(kernels.map((k) => sumOfSquares(k)))) as tf.Scalar;
}
