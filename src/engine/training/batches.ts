import { IMAGE_BYTES, IMAGE_SIZE, type ImageSplit, PIXELS } from '../data/cifar10';
import { seededRandom, shuffled } from '../data/subset';

/**
 * Per-channel mean/std of the full CIFAR-10 training set (measured by `npm run cli -- data --set full`).
 * Fixed constants, not the active set's: a checkpoint then means the same thing on any subset.
 */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR10_STD = [0.247, 0.2435, 0.2616] as const;
const PAD = 4;

/** The order of an epoch's images: a function of (seed, epoch) only, so a resumed run sees the same order. */
export const epochOrder = (count: number, seed: number, epoch: number): number[] =>
  shuffled(
    Array.from({ length: count }, (_, i) => i),
    seededRandom(`${seed}/order/${epoch}`),
  );

/**
 * Normalised NHWC floats for the given records. With `augmentRandom`, each image gets a random crop of the
 * 4-pixel zero-padded image (zero = the padding value before normalisation, as torchvision pads) and a
 * horizontal flip with probability 1/2.
 */
export function makeBatch(
  split: ImageSplit,
  indices: readonly number[],
  augmentRandom?: () => number,
): Float32Array {
  const out = new Float32Array(indices.length * PIXELS * 3);
  const scale = [0, 1, 2].map((c) => 1 / (255 * CIFAR10_STD[c]!));
  const offset = [0, 1, 2].map((c) => -CIFAR10_MEAN[c]! / CIFAR10_STD[c]!);
  indices.forEach((index, b) => {
    const base = index * IMAGE_BYTES;
    let dx = 0;
    let dy = 0;
    let flip = false;
    if (augmentRandom) {
      dx = Math.floor(augmentRandom() * (2 * PAD + 1)) - PAD;
      dy = Math.floor(augmentRandom() * (2 * PAD + 1)) - PAD;
      flip = augmentRandom() < 0.5;
    }
    const o = b * PIXELS * 3;
    for (let y = 0; y < IMAGE_SIZE; y++) {
      const sy = y + dy;
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const sx = (flip ? IMAGE_SIZE - 1 - x : x) + dx;
        const p = o + (y * IMAGE_SIZE + x) * 3;
        if (sy < 0 || sy >= IMAGE_SIZE || sx < 0 || sx >= IMAGE_SIZE) {
          out[p] = offset[0]!;
          out[p + 1] = offset[1]!;
          out[p + 2] = offset[2]!;
          continue;
        }
        const s = base + sy * IMAGE_SIZE + sx;
        out[p] = split.images[s]! * scale[0]! + offset[0]!;
        out[p + 1] = split.images[s + PIXELS]! * scale[1]! + offset[1]!;
        out[p + 2] = split.images[s + 2 * PIXELS]! * scale[2]! + offset[2]!;
      }
    }
  });
  return out;
}
