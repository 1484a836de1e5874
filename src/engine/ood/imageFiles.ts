/**
 * Images of any size as CIFAR-layout records, for uploaded out-of-distribution sets (a folder or a zip of PNG
 * or JPEG files, such as SVHN or Tiny-ImageNet): decoded by fast-png and jpeg-js (pure JS, so the Worker and
 * Node read files the same way), made RGB (alpha over black, grey copied to three channels, 16-bit cut to 8),
 * and resampled to 32x32 by area averaging, which neither aliases a large image down nor needs one to be
 * larger than 32 (a small one is stretched, each output pixel blending the source pixels it covers).
 */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import { unzipSync } from 'fflate';
import { decode as decodeJpeg } from 'jpeg-js';
import { DatasetError, IMAGE_BYTES, IMAGE_SIZE, type ImageSplit, PIXELS } from '../data/cifar10';

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width x height x 3, row-major, interleaved RGB. */
  readonly rgb: Uint8Array;
}

const IMAGE_NAME = /\.(png|jpe?g)$/i;
export const isImageName = (name: string): boolean => IMAGE_NAME.test(name);

/** Largest image side accepted: a 16k x 16k photo would take gigabytes once decoded. */
const MAX_SIDE = 8192;

const why = (error: unknown) => (error instanceof Error ? error.message : String(error));

function pngToRgb(bytes: Uint8Array, name: string): RgbImage {
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes);
  } catch (error) {
    throw new DatasetError(`${name}: not a readable PNG (${why(error)})`);
  }
  const { width, height } = png;
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
  }
  const shift = png.depth === 16 ? 8 : 0;
  // 1 and 2 grey (+ alpha), 3 and 4 RGB (+ alpha); sub-byte depths are unpacked by fast-png to one value each.
  const maxValue = png.depth < 8 && !png.palette ? 2 ** png.depth - 1 : 255;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const at = p * channels;
    const value = (c: number) => {
      const v = data[at + c]! >> shift;
      return maxValue === 255 ? v : Math.round((v * 255) / maxValue);
    };
    const alpha = channels === 2 ? value(1) / 255 : channels === 4 ? value(3) / 255 : 1;
    const [r, g, b] = channels <= 2 ? [value(0), value(0), value(0)] : [value(0), value(1), value(2)];
    rgb[p * 3] = Math.round(r * alpha);
    rgb[p * 3 + 1] = Math.round(g * alpha);
    rgb[p * 3 + 2] = Math.round(b * alpha);
  }
  return { width, height, rgb };
}

function jpegToRgb(bytes: Uint8Array, name: string): RgbImage {
  let jpeg: { width: number; height: number; data: Uint8Array };
  try {
    jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 70 });
  } catch (error) {
    throw new DatasetError(`${name}: not a readable JPEG (${why(error)})`);
  }
  const { width, height, data } = jpeg;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    rgb[p * 3] = data[p * 4]!;
    rgb[p * 3 + 1] = data[p * 4 + 1]!;
    rgb[p * 3 + 2] = data[p * 4 + 2]!;
  }
  return { width, height, rgb };
}

/** Decodes a PNG or JPEG by its content (the extension only picks the message); throws DatasetError naming it. */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  const image = isPng
    ? pngToRgb(bytes, name)
    : isJpeg
      ? jpegToRgb(bytes, name)
      : (() => {
          throw new DatasetError(`${name}: neither a PNG nor a JPEG image (its first bytes say otherwise)`);
        })();
  if (image.width < 1 || image.height < 1) throw new DatasetError(`${name}: the image is empty`);
  if (image.width > MAX_SIDE || image.height > MAX_SIDE)
    throw new DatasetError(
      `${name}: ${image.width}x${image.height} is larger than ${MAX_SIDE} pixels a side; shrink it first`,
    );
  return image;
}

/** Row i of the result: the weights of source pixels 0..from-1 in output pixel i (the overlap of their spans). */
function areaWeights(from: number, to: number): Float64Array {
  const weights = new Float64Array(to * from);
  const scale = from / to;
  for (let i = 0; i < to; i++) {
    const start = i * scale;
    const end = start + scale;
    for (let s = Math.floor(start); s < Math.min(from, Math.ceil(end)); s++) {
      const overlap = Math.min(end, s + 1) - Math.max(start, s);
      if (overlap > 0) weights[i * from + s] = overlap / scale;
    }
  }
  return weights;
}

/** An RGB image resampled to 32x32, written channel-major (the CIFAR record layout) into `out` at `offset`. */
export function resizeToRecord(image: RgbImage, out: Uint8Array, offset: number): void {
  const { width, height, rgb } = image;
  const wx = areaWeights(width, IMAGE_SIZE);
  const wy = areaWeights(height, IMAGE_SIZE);
  // Separable: columns first (height x 32 x 3), then rows.
  const columns = new Float64Array(height * IMAGE_SIZE * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < IMAGE_SIZE; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let s = 0; s < width; s++) {
        const w = wx[x * width + s]!;
        if (w === 0) continue;
        const at = (y * width + s) * 3;
        r += w * rgb[at]!;
        g += w * rgb[at + 1]!;
        b += w * rgb[at + 2]!;
      }
      const at = (y * IMAGE_SIZE + x) * 3;
      columns[at] = r;
      columns[at + 1] = g;
      columns[at + 2] = b;
    }
  for (let y = 0; y < IMAGE_SIZE; y++)
    for (let x = 0; x < IMAGE_SIZE; x++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let s = 0; s < height; s++) {
          const w = wy[y * height + s]!;
          if (w !== 0) v += w * columns[(s * IMAGE_SIZE + x) * 3 + c]!;
        }
        out[offset + c * PIXELS + y * IMAGE_SIZE + x] = Math.min(255, Math.max(0, Math.round(v)));
      }
}

/** Image files (name + bytes) as one split of 32x32 records, labels 0; an empty list is refused. */
export function imagesToSplit(
  files: readonly { name: string; bytes: Uint8Array }[],
  source: string,
): ImageSplit {
  if (files.length === 0) throw new DatasetError(`${source}: holds no PNG or JPEG images`);
  const images = new Uint8Array(files.length * IMAGE_BYTES);
  files.forEach((file, i) => resizeToRecord(decodeImage(file.bytes, file.name), images, i * IMAGE_BYTES));
  return { images, labels: new Uint8Array(files.length), count: files.length };
}

/** The PNG/JPEG entries of a zip, in name order (folders, hidden files and __MACOSX resource forks skipped). */
export function imagesInZip(bytes: Uint8Array, name: string): { name: string; bytes: Uint8Array }[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (file) =>
        isImageName(file.name) &&
        !file.name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX'),
    });
  } catch (error) {
    throw new DatasetError(`${name}: not a readable zip archive (${why(error)})`);
  }
  return Object.keys(entries)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((entry) => ({ name: `${name}/${entry}`, bytes: entries[entry]! }));
}
