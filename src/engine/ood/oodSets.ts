/**
 * The out-of-distribution image sets the trust panel scores against the active test split (docs/design.md,
 * "Out-of-distribution and calibration"): MNIST (far OoD, prepared by `npm run data`), seeded Gaussian and
 * uniform noise, and uploads (a CIFAR-binary .bin whose labels are ignored, or PNG/JPEG images, loose or in
 * a zip, resized to 32x32). Pure: bytes in, CIFAR-layout records out.
 */
import { DatasetError, IMAGE_BYTES, type ImageSplit, parseCifarBinary } from '../data/cifar10';
import { MNIST_OOD_FILE } from '../data/prepared';
import { seededRandom } from '../data/subset';
import type { UploadedFile } from '../data/upload';
import { imagesInZip, imagesToSplit, isImageName } from './imageFiles';

export const BUILT_IN_OOD_SETS = ['mnist', 'gaussian', 'uniform'] as const;
export type BuiltInOodSet = (typeof BUILT_IN_OOD_SETS)[number];
export const isBuiltInOodSet = (id: string): id is BuiltInOodSet =>
  (BUILT_IN_OOD_SETS as readonly string[]).includes(id);

export const BUILT_IN_NAMES: Record<BuiltInOodSet, string> = {
  mnist: 'MNIST (digits, padded to 32x32, grey as RGB)',
  gaussian: 'Gaussian noise (per pixel N(0.5, 0.25^2), clipped)',
  uniform: 'Uniform noise (per pixel 0..255)',
};

export { MNIST_OOD_FILE };

/** The first `count` MNIST records of the prepared file (all when it has fewer). */
export function mnistSet(bytes: Uint8Array, count: number): ImageSplit {
  // 256 classes: the digit labels are not CIFAR-10 classes and are never used.
  const all = parseCifarBinary(bytes, MNIST_OOD_FILE, 256);
  const n = Math.min(count, all.count);
  return { images: all.images.subarray(0, n * IMAGE_BYTES), labels: all.labels.subarray(0, n), count: n };
}

/**
 * `count` noise images, the same for the same seed on every host: Gaussian, each value 255 * N(0.5, 0.25^2)
 * rounded and clipped to 0..255 (Box-Muller over a seeded uniform stream); uniform, each value 0..255.
 */
export function noiseSet(kind: 'gaussian' | 'uniform', count: number, seed = 0): ImageSplit {
  if (!(Number.isInteger(count) && count >= 1))
    throw new RangeError(`a noise set needs a whole number of images >= 1; got ${count}`);
  const random = seededRandom(`ood/${kind}/${seed}`);
  const images = new Uint8Array(count * IMAGE_BYTES);
  if (kind === 'uniform') {
    for (let i = 0; i < images.length; i++) images[i] = Math.floor(random() * 256);
  } else {
    const clip = (v: number) => Math.min(255, Math.max(0, Math.round(255 * (0.5 + 0.25 * v))));
    for (let i = 0; i < images.length; i += 2) {
      const u = 1 - random(); // in (0, 1]: log(u) is finite
      const radius = Math.sqrt(-2 * Math.log(u));
      const angle = 2 * Math.PI * random();
      images[i] = clip(radius * Math.cos(angle));
      if (i + 1 < images.length) images[i + 1] = clip(radius * Math.sin(angle));
    }
  }
  return { images, labels: new Uint8Array(count), count };
}

const ACCEPTED = 'a CIFAR-binary .bin, a .zip of PNG/JPEG images, or PNG/JPEG image files (a folder of them)';

/**
 * An uploaded OoD set: one or more files, each a CIFAR-binary .bin (any label byte), a zip of PNG/JPEG images,
 * or a PNG/JPEG image; all records together, in the order given (zip entries and loose images by name).
 * Throws DatasetError naming the file and the reason.
 */
export function oodSetFromFiles(files: readonly UploadedFile[]): { name: string; split: ImageSplit } {
  if (files.length === 0) throw new DatasetError(`No file given; choose ${ACCEPTED}`);
  const parts: ImageSplit[] = [];
  const loose = files
    .filter((f) => isImageName(f.name))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  for (const file of files) {
    const lower = file.name.toLowerCase();
    if (lower.endsWith('.bin')) parts.push(parseCifarBinary(file.bytes, file.name, 256));
    else if (lower.endsWith('.zip')) parts.push(imagesToSplit(imagesInZip(file.bytes, file.name), file.name));
    else if (!isImageName(file.name))
      throw new DatasetError(`${file.name}: not a file this panel reads; choose ${ACCEPTED}`);
  }
  if (loose.length)
    parts.push(imagesToSplit(loose, loose.length === 1 ? loose[0]!.name : 'the chosen images'));
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  let at = 0;
  for (const part of parts) {
    images.set(part.images, at * IMAGE_BYTES);
    at += part.count;
  }
  const name = files.length === 1 ? files[0]!.name : `${files[0]!.name} and ${files.length - 1} more`;
  return { name, split: { images, labels: new Uint8Array(count), count } };
}
