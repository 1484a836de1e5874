import { describe, expect, it } from 'vitest';
import { IMAGE_BYTES, IMAGE_SIZE, type ImageSplit, PIXELS } from '../data/cifar10';
import { CIFAR10_MEAN, CIFAR10_STD, epochOrder, makeBatch } from './batches';

/** Three images with pixel bytes 1..255 (never 0, so zero padding cannot pass for an image pixel). */
function syntheticSplit(count = 3): ImageSplit {
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < images.length; i++) images[i] = 1 + ((i * 37 + (i >> 7) * 11) % 255);
  return { images, labels: new Uint8Array(count).map((_, i) => i % 10), count };
}

/** The normalised value of a byte in channel c, computed independently of makeBatch. */
const normalised = (byte: number, c: number) => (byte / 255 - CIFAR10_MEAN[c]!) / CIFAR10_STD[c]!;
/** Source byte of (image, channel, y, x) in the channel-major record layout. */
const sourceByte = (split: ImageSplit, image: number, c: number, y: number, x: number) =>
  split.images[image * IMAGE_BYTES + c * PIXELS + y * IMAGE_SIZE + x]!;
/** Output index of (batch position, y, x, channel) in NHWC. */
const nhwc = (b: number, y: number, x: number, c: number) => ((b * IMAGE_SIZE + y) * IMAGE_SIZE + x) * 3 + c;

/** A random function that returns the given values in order, and fails if asked for more. */
function sequence(values: readonly number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length)
      throw new Error(`random() called ${i + 1} times, only ${values.length} values given`);
    return values[i++]!;
  };
}

/** torchvision's RandomCrop(32, padding=4) then RandomHorizontalFlip, as a reference: padded 40x40 image. */
function reference(split: ImageSplit, image: number, dx: number, dy: number, flip: boolean): Float32Array {
  const out = new Float32Array(PIXELS * 3);
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const cropX = flip ? IMAGE_SIZE - 1 - x : x;
      // Crop window of the padded image starts at (4 + dy, 4 + dx); padded (py, px) is source (py - 4, px - 4).
      const sy = y + dy;
      const sx = cropX + dx;
      const inside = sy >= 0 && sy < IMAGE_SIZE && sx >= 0 && sx < IMAGE_SIZE;
      for (let c = 0; c < 3; c++) {
        out[nhwc(0, y, x, c)] = normalised(inside ? sourceByte(split, image, c, sy, sx) : 0, c);
      }
    }
  }
  return out;
}

/** The augment draws: dx from the first value, dy from the second, flip when the third is below 1/2. */
const drawsFor = (dx: number, dy: number, flip: boolean) => [
  (dx + 4 + 0.5) / 9,
  (dy + 4 + 0.5) / 9,
  flip ? 0.25 : 0.75,
];

const maxDifference = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('makeBatch', () => {
  const split = syntheticSplit();

  it('without augmentation, normalises every pixel as (v/255 - mean)/std per channel, in NHWC order', () => {
    const batch = makeBatch(split, [2, 0]);
    expect(batch).toHaveLength(2 * PIXELS * 3);
    // A known pixel, checked alone: image 2 at (y 5, x 7), in batch position 0.
    for (let c = 0; c < 3; c++) {
      const byte = sourceByte(split, 2, c, 5, 7);
      expect(batch[nhwc(0, 5, 7, c)]).toBeCloseTo(normalised(byte, c), 6);
    }
    // Byte 0 -> -mean/std, byte 255 -> (1 - mean)/std; and every pixel of both images.
    expect(normalised(0, 1)).toBeCloseTo(-0.4822 / 0.2435, 12);
    for (const [b, image] of [
      [0, 2],
      [1, 0],
    ] as const) {
      for (let y = 0; y < IMAGE_SIZE; y++) {
        for (let x = 0; x < IMAGE_SIZE; x++) {
          for (let c = 0; c < 3; c++) {
            const expected = normalised(sourceByte(split, image, c, y, x), c);
            if (Math.abs(batch[nhwc(b, y, x, c)]! - expected) > 1e-6) {
              throw new Error(
                `image ${image} (${y}, ${x}) channel ${c}: ${batch[nhwc(b, y, x, c)]} != ${expected}`,
              );
            }
          }
        }
      }
    }
  });

  it('with augmentation, shifts by the drawn offsets, flips, and pads with normalised zeros', () => {
    // dx = +3, dy = -3, flipped.
    const batch = makeBatch(split, [1], sequence(drawsFor(3, -3, true)));
    // Rows 0-2 come from above the image: all padding (pixel value 0 before normalisation).
    for (let c = 0; c < 3; c++) {
      expect(batch[nhwc(0, 0, 0, c)]).toBeCloseTo(-CIFAR10_MEAN[c]! / CIFAR10_STD[c]!, 6);
      expect(batch[nhwc(0, 2, 31, c)]).toBeCloseTo(-CIFAR10_MEAN[c]! / CIFAR10_STD[c]!, 6);
    }
    // Flipped then shifted by 3: output x 0-2 read source x 34-32 (padding); x 3 reads source x 31.
    expect(batch[nhwc(0, 10, 2, 0)]).toBeCloseTo(normalised(0, 0), 6);
    expect(batch[nhwc(0, 10, 3, 0)]).toBeCloseTo(normalised(sourceByte(split, 1, 0, 7, 31), 0), 6);
    expect(batch[nhwc(0, 10, 5, 2)]).toBeCloseTo(normalised(sourceByte(split, 1, 2, 7, 29), 2), 6);
    expect(batch[nhwc(0, 31, 31, 1)]).toBeCloseTo(normalised(sourceByte(split, 1, 1, 28, 3), 1), 6);
    expect(maxDifference(batch, reference(split, 1, 3, -3, true))).toBeLessThan(1e-6);
  });

  it('covers the extreme offsets and the unflipped case, image by image in draw order', () => {
    const cases = [
      { image: 0, dx: -4, dy: 4, flip: false },
      { image: 2, dx: 4, dy: -4, flip: true },
      { image: 1, dx: 0, dy: 0, flip: false },
    ];
    const batch = makeBatch(
      split,
      cases.map((k) => k.image),
      sequence(cases.flatMap((k) => drawsFor(k.dx, k.dy, k.flip))),
    );
    cases.forEach((k, b) => {
      const one = batch.subarray(b * PIXELS * 3, (b + 1) * PIXELS * 3);
      expect(maxDifference(one, reference(split, k.image, k.dx, k.dy, k.flip))).toBeLessThan(1e-6);
    });
    // No shift and no flip is the plain batch.
    expect(maxDifference(batch.subarray(2 * PIXELS * 3), makeBatch(split, [1]))).toBe(0);
    // dx = -4: output column 0-3 are padding, column 4 is source column 0.
    expect(batch[nhwc(0, 20, 3, 0)]).toBeCloseTo(normalised(0, 0), 6);
    expect(batch[nhwc(0, 20, 4, 0)]).toBeCloseTo(normalised(sourceByte(split, 0, 0, 24, 0), 0), 6);
  });

  it('draws exactly three numbers per image', () => {
    let calls = 0;
    makeBatch(split, [0, 1, 2, 0], () => {
      calls += 1;
      return 0.5;
    });
    expect(calls).toBe(12);
  });
});

describe('epochOrder', () => {
  it('is a permutation of 0..n-1', () => {
    const order = epochOrder(1000, 7, 0);
    expect(order).toHaveLength(1000);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Shuffled, not the identity.
    expect(order.filter((v, i) => v === i).length).toBeLessThan(20);
  });

  it('is fixed by (seed, epoch) and changes with either', () => {
    const order = epochOrder(500, 3, 2);
    expect(epochOrder(500, 3, 2)).toEqual(order);
    expect(epochOrder(500, 3, 3)).not.toEqual(order);
    expect(epochOrder(500, 4, 2)).not.toEqual(order);
    const epochs = Array.from({ length: 5 }, (_, epoch) => epochOrder(500, 3, epoch).join(','));
    expect(new Set(epochs).size).toBe(5);
  });
});
