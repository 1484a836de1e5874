/**
 * A faster gradient for the FusedBatchNorm kernel, on every backend. tfjs-core 4.22's builtin one tiles
 * 1/sqrt(variance + eps) up to the full input shape and multiplies the input-sized tensors elementwise before
 * each per-channel reduction. Here per-channel factors broadcast instead of being tiled, and they are applied
 * after the reductions: dMean = -g/s * sum(dy), dVariance = -g/(2 s^3) * sum((x - mean) dy), dScale =
 * 1/s * sum((x - mean) dy), dOffset = sum(dy), dx = g/s * dy, with s = sqrt(variance + eps) and g the scale.
 * So one backward pass touches input-sized tensors in one subtraction, two multiplications and two sums.
 */
import {
  add,
  backend_util,
  FusedBatchNorm,
  type FusedBatchNormAttrs,
  type GradConfig,
  getGradient,
  mul,
  type NamedAttrMap,
  neg,
  registerGradient,
  reshape,
  rsqrt,
  scalar,
  square,
  sub,
  sum,
  type Tensor,
} from '@tensorflow/tfjs-core';

/** Sums `t` over the axes along which `shape` is broadcast against it, then gives it exactly `shape`. */
function reduceTo(t: Tensor, shape: number[]): Tensor {
  const axes = backend_util.getReductionAxes(shape, t.shape);
  return reshape(axes.length > 0 ? sum(t, axes) : t, shape);
}

const fastBatchNormGradConfig: GradConfig = {
  kernelName: FusedBatchNorm,
  // Same order as tfjs-core's own config; `scale` is undefined when batchNorm was called without one.
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    if (Array.isArray(dy)) throw new Error('batchNormGradient: FusedBatchNorm has a single output');
    // The kernel attrs arrive as the untyped NamedAttrMap; tfjs-core's batchNorm op sets exactly this one.
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const paramShape = mean.shape;

    // Per-channel factors (parameter-sized, cheap).
    const invStd = rsqrt(add(variance, scalar(varianceEpsilon)));
    const invStdScaled = scale == null ? invStd : mul(invStd, scale);

    // The two input-sized reductions, shared by the mean/offset and the variance/scale gradients. Computed
    // here rather than in the closures below: the tape runs each closure in its own tidy, so a result shared
    // between them could not outlive the first. In training every parameter gradient is wanted anyway.
    const sumDy = reduceTo(dy, paramShape);
    const sumCenteredDy = reduceTo(mul(sub(x, mean), dy), paramShape);

    return {
      x: () => reshape(mul(dy, invStdScaled), x.shape),
      mean: () => reshape(neg(mul(invStdScaled, sumDy)), paramShape),
      variance: () =>
        reshape(mul(mul(scalar(-0.5), mul(invStdScaled, square(invStd))), sumCenteredDy), paramShape),
      scale: () => reshape(mul(invStd, sumCenteredDy), paramShape),
      offset: () => sumDy.clone(),
    };
  },
};

/**
 * Makes `fastBatchNormGradConfig` the gradient of FusedBatchNorm (tf.batchNorm and tfjs-layers'
 * BatchNormalization) for every backend. Idempotent; the gradient registry is global, so it does not matter
 * which copy of tfjs-core (ESM or CJS, the umbrella package's or this module's) registers it.
 */
export function registerFastBatchNormGradient(): void {
  if (getGradient(FusedBatchNorm) !== fastBatchNormGradConfig) {
    registerGradient(fastBatchNormGradConfig);
  }
}
