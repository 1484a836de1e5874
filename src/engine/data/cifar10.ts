/**
 * CIFAR-10 in the official binary layout: one record per image, 1 label byte then 3,072 pixel bytes,
 * channel-major (1,024 R, 1,024 G, 1,024 B), each plane row-major. The lab keeps images in this layout
 * everywhere (prepared files, uploads, memory) so that a researcher's `cifar-10-binary.tar.gz` is read as is.
 */
import { formatCount } from '../config/format';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const IMAGE_BYTES = PIXELS * CHANNELS;
export const RECORD_BYTES = IMAGE_BYTES + 1;
/** CIFAR-100's binary layout has two label bytes (coarse, fine); worth recognising to say so. */
const CIFAR100_RECORD_BYTES = IMAGE_BYTES + 2;

/** A set of images: `images` holds `count` channel-major 32x32x3 images back to back. */
export interface ImageSplit {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface Dataset {
  /** Stable id: 'embedded', 'full', or 'upload:<names>'. */
  readonly id: string;
  /** Human name shown in the UI. */
  readonly name: string;
  readonly classNames: readonly string[];
  readonly train: ImageSplit;
  readonly test: ImageSplit;
}

/** Bad input: the message names the file and the problem, ready to show to a user as is. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export { formatCount };

export const emptySplit = (): ImageSplit => ({
  images: new Uint8Array(0),
  labels: new Uint8Array(0),
  count: 0,
});

/** Parses official CIFAR-10 binary records; throws DatasetError naming `fileName` on anything else. */
export function parseCifarBinary(bytes: Uint8Array, fileName: string, numClasses = 10): ImageSplit {
  const size = bytes.byteLength;
  if (size === 0) throw new DatasetError(`${fileName}: the file is empty`);
  if (size % RECORD_BYTES !== 0) {
    const hint =
      size % CIFAR100_RECORD_BYTES === 0
        ? ` (it looks like CIFAR-100's binary format, ${formatCount(CIFAR100_RECORD_BYTES)}-byte records; this lab reads CIFAR-10)`
        : '';
    throw new DatasetError(
      `${fileName}: ${formatCount(size)} bytes is not a whole number of ${formatCount(RECORD_BYTES)}-byte records${hint}`,
    );
  }
  const count = size / RECORD_BYTES;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * RECORD_BYTES;
    const label = bytes[offset]!;
    if (label >= numClasses) {
      throw new DatasetError(
        `${fileName}: record ${formatCount(i + 1)} has label ${label}, but CIFAR-10 labels are 0-${numClasses - 1}; this is not a CIFAR-10 binary file`,
      );
    }
    labels[i] = label;
    images.set(bytes.subarray(offset + 1, offset + RECORD_BYTES), i * IMAGE_BYTES);
  }
  return { images, labels, count };
}

/** The inverse of parseCifarBinary. */
export function encodeCifarBinary(split: ImageSplit): Uint8Array {
  const out = new Uint8Array(split.count * RECORD_BYTES);
  for (let i = 0; i < split.count; i++) {
    out[i * RECORD_BYTES] = split.labels[i]!;
    out.set(split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), i * RECORD_BYTES + 1);
  }
  return out;
}

export function concatSplits(splits: readonly ImageSplit[]): ImageSplit {
  if (splits.length === 1) return splits[0]!;
  const count = splits.reduce((n, s) => n + s.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of splits) {
    images.set(s.images, at * IMAGE_BYTES);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { images, labels, count };
}

/** Picks records by index, in the given order. */
export function selectRecords(split: ImageSplit, indices: readonly number[]): ImageSplit {
  const images = new Uint8Array(indices.length * IMAGE_BYTES);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, i) => {
    if (index < 0 || index >= split.count)
      throw new RangeError(`record ${index} is outside 0..${split.count - 1}`);
    images.set(split.images.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = split.labels[index]!;
  });
  return { images, labels, count: indices.length };
}

/** One image as RGBA bytes (for canvas ImageData), from the channel-major layout. */
export function imageToRgba(split: ImageSplit, index: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(PIXELS * 4);
  const base = index * IMAGE_BYTES;
  for (let p = 0; p < PIXELS; p++) {
    rgba[p * 4] = split.images[base + p]!;
    rgba[p * 4 + 1] = split.images[base + PIXELS + p]!;
    rgba[p * 4 + 2] = split.images[base + 2 * PIXELS + p]!;
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}

/** Converts interleaved RGB rows (PNG sprite rows, one image per row) to one channel-major image. */
export function interleavedRgbToChannelMajor(rgb: Uint8Array, out: Uint8Array, outOffset: number): void {
  for (let p = 0; p < PIXELS; p++) {
    out[outOffset + p] = rgb[p * 3]!;
    out[outOffset + PIXELS + p] = rgb[p * 3 + 1]!;
    out[outOffset + 2 * PIXELS + p] = rgb[p * 3 + 2]!;
  }
}
