/**
 * Bilinear resizing whose forward values AND gradient equal PyTorch's
 * `F.interpolate(x, size, mode='bilinear', align_corners=False)` on every backend.
 *
 * Why not `tf.image.resizeBilinear(x, size, false, true)`: its forward values are right, but tfjs 4.22's
 * `ResizeBilinearGrad` ignores `halfPixelCenters`, so the gradient is wrong on cpu, wasm, webgl and webgpu
 * (docs/design.md, "Resizes inside a loss"). A bilinear resize is linear and separable, so it is written here as
 * two matrix products with fixed interpolation matrices, out = A_h · X · A_wᵀ per image and channel; the
 * gradient of a MatMul is right on every backend.
 *
 * Matrix rows follow ATen's `area_pixel_compute_source_index` (align_corners=False): source = (dst + 0.5) *
 * in / out - 0.5, clamped below at 0; weights (1 - frac, frac) on floor(source) and min(floor + 1, in - 1).
 * Downsizing uses the same two-tap rule (no antialiasing), as F.interpolate does by default.
 */
import * as tf from '@tensorflow/tfjs';

const matrixCache = new Map<string, Float32Array>();

/** The [outSize x inSize] row-major interpolation matrix of one axis. */
export function interpolationMatrix(inSize: number, outSize: number): Float32Array {
  if (!(Number.isInteger(inSize) && inSize >= 1 && Number.isInteger(outSize) && outSize >= 1))
    throw new RangeError(`resize sizes must be whole numbers >= 1; got ${inSize} -> ${outSize}`);
  const key = `${inSize}>${outSize}`;
  const cached = matrixCache.get(key);
  if (cached) return cached;
  const matrix = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let dst = 0; dst < outSize; dst++) {
    const source = Math.max((dst + 0.5) * scale - 0.5, 0);
    const low = Math.min(Math.floor(source), inSize - 1);
    const high = Math.min(low + 1, inSize - 1);
    const frac = source - low;
    // low === high at the last source cell: the two weights add up there.
    matrix[dst * inSize + low] = 1 - frac;
    matrix[dst * inSize + high] = matrix[dst * inSize + high]! + frac;
  }
  matrixCache.set(key, matrix);
  return matrix;
}

/** Each row of a 2-D tensor mapped through A ([out x in]): X · Aᵀ. */
const alongLastAxis = (x: tf.Tensor2D, inSize: number, outSize: number) =>
  tf.matMul(x, tf.tensor2d(interpolationMatrix(inSize, outSize), [outSize, inSize]), false, true);

/**
 * NHWC bilinear resize to [height, width] with PyTorch's align_corners=False values and a correct gradient.
 * Returns the input itself when the size already matches.
 */
export function resizeBilinear(x: tf.Tensor4D, [height, width]: readonly [number, number]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h === height && w === width) return x;
  return tf.tidy(() => {
    // [n, h, w, c] -> [n, c, h, w]: rows of width w, resized along the last axis, then the same along h.
    const channelsFirst =
      c === 1 ? tf.reshape(x, [n * h, w]) : tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * c * h, w]);
    const alongWidth = tf.reshape(alongLastAxis(channelsFirst as tf.Tensor2D, w, width), [n * c, h, width]);
    const heightLast = tf.reshape(tf.transpose(alongWidth, [0, 2, 1]), [n * c * width, h]) as tf.Tensor2D;
    const alongHeight = tf.reshape(alongLastAxis(heightLast, h, height), [n, c, width, height]);
    return tf.transpose(alongHeight, [0, 3, 2, 1]) as tf.Tensor4D;
  });
}

/** AKD's mask upsampling: masks [N, H, W, 1] to [N, size, size, 1] (see resizeBilinear). */
export function upsampleMasks(masks: tf.Tensor4D, size: number): tf.Tensor4D {
  if (masks.rank !== 4 || masks.shape[3] !== 1)
    throw new Error(`upsampleMasks expects masks of shape [N, H, W, 1]; got [${masks.shape.join(', ')}]`);
  return resizeBilinear(masks, [size, size]);
}
