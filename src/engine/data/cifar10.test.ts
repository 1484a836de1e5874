import { describe, expect, it } from 'vitest';
import {
  CHANNELS,
  CIFAR10_CLASSES,
  concatSplits,
  DatasetError,
  emptySplit,
  encodeCifarBinary,
  IMAGE_BYTES,
  IMAGE_SIZE,
  type ImageSplit,
  imageToRgba,
  interleavedRgbToChannelMajor,
  PIXELS,
  parseCifarBinary,
  RECORD_BYTES,
  selectRecords,
} from './cifar10';
import { errorOf } from '../../testing/errorOf';

/** `count` images whose bytes depend on (image, position), so any mix-up of records or planes shows. */
function syntheticSplit(labels: readonly number[], salt = 0): ImageSplit {
  const count = labels.length;
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < images.length; i++) images[i] = (i * 31 + salt * 17 + Math.floor(i / 251)) & 255;
  return { images, labels: Uint8Array.from(labels), count };
}

const image = (split: ImageSplit, i: number) => split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);

describe('layout constants', () => {
  it('match the official CIFAR-10 binary layout', () => {
    expect(IMAGE_SIZE).toBe(32);
    expect(CHANNELS).toBe(3);
    expect(PIXELS).toBe(1024);
    expect(IMAGE_BYTES).toBe(3072);
    expect(RECORD_BYTES).toBe(3073);
    expect(CIFAR10_CLASSES).toEqual([
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
    ]);
  });
});

describe('parseCifarBinary', () => {
  it('reads records built by hand: label byte, then R, G, B planes', () => {
    const bytes = new Uint8Array(2 * RECORD_BYTES);
    // Record 1: label 7, R plane 10, G plane 20, B plane 30, with one marked pixel per plane.
    bytes[0] = 7;
    bytes.fill(10, 1, 1 + PIXELS);
    bytes.fill(20, 1 + PIXELS, 1 + 2 * PIXELS);
    bytes.fill(30, 1 + 2 * PIXELS, RECORD_BYTES);
    bytes[1 + 5] = 200; // R at pixel 5
    bytes[1 + PIXELS + 6] = 201; // G at pixel 6
    bytes[1 + 2 * PIXELS + 1023] = 202; // B at the last pixel
    // Record 2: label 0, every byte 99.
    bytes[RECORD_BYTES] = 0;
    bytes.fill(99, RECORD_BYTES + 1);

    const split = parseCifarBinary(bytes, 'hand.bin');
    expect(split.count).toBe(2);
    expect(Array.from(split.labels)).toEqual([7, 0]);
    expect(split.images.length).toBe(2 * IMAGE_BYTES);
    expect(split.images[0]).toBe(10);
    expect(split.images[5]).toBe(200);
    expect(split.images[PIXELS]).toBe(20);
    expect(split.images[PIXELS + 6]).toBe(201);
    expect(split.images[2 * PIXELS]).toBe(30);
    expect(split.images[2 * PIXELS + 1023]).toBe(202);
    // The label byte of record 2 must not leak into the images.
    expect(split.images[IMAGE_BYTES - 1]).toBe(202);
    expect(split.images[IMAGE_BYTES]).toBe(99);
    expect(image(split, 1).every((v) => v === 99)).toBe(true);
  });

  it('round-trips labels and channel-major pixels through encodeCifarBinary', () => {
    const labels = [0, 9, 3, 3, 5];
    const split = syntheticSplit(labels);
    const bytes = encodeCifarBinary(split);
    expect(bytes.length).toBe(labels.length * RECORD_BYTES);
    labels.forEach((label, i) => {
      expect(bytes[i * RECORD_BYTES]).toBe(label);
      expect(bytes.subarray(i * RECORD_BYTES + 1, (i + 1) * RECORD_BYTES)).toEqual(image(split, i));
    });
    const parsed = parseCifarBinary(bytes, 'round-trip.bin');
    expect(parsed.count).toBe(labels.length);
    expect(Array.from(parsed.labels)).toEqual(labels);
    expect(parsed.images).toEqual(split.images);
    expect(encodeCifarBinary(parsed)).toEqual(bytes);
  });

  it('does not keep a view of the input: changing the file bytes later leaves the split alone', () => {
    const bytes = encodeCifarBinary(syntheticSplit([1]));
    const parsed = parseCifarBinary(bytes, 'copy.bin');
    const before = parsed.images[0];
    bytes[1] = (bytes[1]! + 1) & 255;
    expect(parsed.images[0]).toBe(before);
  });

  it('refuses an empty file', () => {
    const error = errorOf(() => parseCifarBinary(new Uint8Array(0), 'empty.bin'));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.name).toBe('DatasetError');
    expect(error.message).toBe('empty.bin: the file is empty');
  });

  it('refuses a size that is not a whole number of records, with the exact message', () => {
    const error = errorOf(() => parseCifarBinary(new Uint8Array(30_729_999), 'test_batch.bin'));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(
      'test_batch.bin: 30,729,999 bytes is not a whole number of 3,073-byte records',
    );
  });

  it('refuses a record-and-a-bit without the CIFAR-100 hint', () => {
    const error = errorOf(() => parseCifarBinary(new Uint8Array(RECORD_BYTES + 2), 'short.bin'));
    expect(error.message).toBe('short.bin: 3,075 bytes is not a whole number of 3,073-byte records');
  });

  it('recognises a CIFAR-100 binary file (3,074-byte records) and says so', () => {
    const error = errorOf(() => parseCifarBinary(new Uint8Array(2 * 3074), 'train.bin'));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(
      "train.bin: 6,148 bytes is not a whole number of 3,073-byte records (it looks like CIFAR-100's binary format, 3,074-byte records; this lab reads CIFAR-10)",
    );
  });

  it('names the record and the label when a label is not 0-9', () => {
    const split = syntheticSplit([4, 2, 0]);
    const bytes = encodeCifarBinary(split);
    bytes[RECORD_BYTES] = 10; // record 2
    const error = errorOf(() => parseCifarBinary(bytes, 'batch.bin'));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(
      'batch.bin: record 2 has label 10, but CIFAR-10 labels are 0-9; this is not a CIFAR-10 binary file',
    );
  });

  it('formats large record numbers and names the first bad record', () => {
    const bytes = new Uint8Array(1_200 * RECORD_BYTES);
    bytes[1_000 * RECORD_BYTES] = 255; // record 1,001
    bytes[1_100 * RECORD_BYTES] = 77; // record 1,101, after the first bad one
    expect(errorOf(() => parseCifarBinary(bytes, 'big.bin')).message).toBe(
      'big.bin: record 1,001 has label 255, but CIFAR-10 labels are 0-9; this is not a CIFAR-10 binary file',
    );
  });

  it('accepts label 9 and honours a smaller numClasses', () => {
    const bytes = encodeCifarBinary(syntheticSplit([9, 4]));
    expect(Array.from(parseCifarBinary(bytes, 'ok.bin').labels)).toEqual([9, 4]);
    expect(errorOf(() => parseCifarBinary(bytes, 'few.bin', 4)).message).toMatch(
      /^few\.bin: record 1 has label 9, .*0-3;/,
    );
  });
});

describe('imageToRgba', () => {
  // Image 1 of a two-image split, so the per-image offset is exercised too.
  const split = syntheticSplit([0, 0]);
  const base = IMAGE_BYTES;
  for (let p = 0; p < PIXELS; p++) {
    split.images[base + p] = p & 255; // R
    split.images[base + PIXELS + p] = 255 - (p & 255); // G
    split.images[base + 2 * PIXELS + p] = (p >> 2) & 255; // B
  }

  it('interleaves R, G, B with opaque alpha at the right pixel positions', () => {
    const rgba = imageToRgba(split, 1);
    expect(rgba).toBeInstanceOf(Uint8ClampedArray);
    expect(rgba.length).toBe(PIXELS * 4);
    const at = (y: number, x: number) => Array.from(rgba.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([0, 255, 0, 255]);
    // (y=1, x=2) is pixel 34.
    expect(at(1, 2)).toEqual([34, 221, 8, 255]);
    // (y=10, x=3) is pixel 323: R = 323 & 255 = 67, G = 188, B = 80.
    expect(at(10, 3)).toEqual([67, 188, 80, 255]);
    // Last pixel, 1023: R = 255, G = 0, B = 255.
    expect(at(31, 31)).toEqual([255, 0, 255, 255]);
    for (let p = 0; p < PIXELS; p++) expect(rgba[p * 4 + 3]).toBe(255);
  });

  it('reads the requested image, not the first one', () => {
    const first = imageToRgba(split, 0);
    expect(Array.from(first.subarray(0, 3))).toEqual([
      split.images[0],
      split.images[PIXELS],
      split.images[2 * PIXELS],
    ]);
    expect(first).not.toEqual(imageToRgba(split, 1));
  });
});

describe('interleavedRgbToChannelMajor', () => {
  it('splits an interleaved RGB row into R, G, B planes at the given offset', () => {
    const rgb = new Uint8Array(PIXELS * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7) % 251;
    const offset = 5;
    const out = new Uint8Array(offset + IMAGE_BYTES + 3).fill(42);
    interleavedRgbToChannelMajor(rgb, out, offset);
    // Bytes outside the image are untouched.
    expect(Array.from(out.subarray(0, offset))).toEqual([42, 42, 42, 42, 42]);
    expect(Array.from(out.subarray(offset + IMAGE_BYTES))).toEqual([42, 42, 42]);
    // Pixel (y=1, x=2) = 34.
    expect(out[offset + 34]).toBe(rgb[34 * 3]);
    expect(out[offset + PIXELS + 34]).toBe(rgb[34 * 3 + 1]);
    expect(out[offset + 2 * PIXELS + 34]).toBe(rgb[34 * 3 + 2]);
    for (let p = 0; p < PIXELS; p++) {
      for (let c = 0; c < 3; c++) expect(out[offset + c * PIXELS + p]).toBe(rgb[p * 3 + c]);
    }
  });

  it('is undone by imageToRgba', () => {
    const rgb = new Uint8Array(PIXELS * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 13 + 5) & 255;
    const images = new Uint8Array(IMAGE_BYTES);
    interleavedRgbToChannelMajor(rgb, images, 0);
    const rgba = imageToRgba({ images, labels: new Uint8Array(1), count: 1 }, 0);
    for (let p = 0; p < PIXELS; p++) {
      expect([rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2]]).toEqual([
        rgb[p * 3],
        rgb[p * 3 + 1],
        rgb[p * 3 + 2],
      ]);
    }
  });
});

describe('concatSplits', () => {
  it('puts images and labels back to back in order', () => {
    const a = syntheticSplit([1, 2], 1);
    const b = syntheticSplit([3], 2);
    const c = syntheticSplit([4, 5, 6], 3);
    const all = concatSplits([a, b, c]);
    expect(all.count).toBe(6);
    expect(Array.from(all.labels)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.images.length).toBe(6 * IMAGE_BYTES);
    expect(image(all, 0)).toEqual(image(a, 0));
    expect(image(all, 1)).toEqual(image(a, 1));
    expect(image(all, 2)).toEqual(image(b, 0));
    expect(image(all, 5)).toEqual(image(c, 2));
  });

  it('skips empty splits and handles none', () => {
    const a = syntheticSplit([7]);
    const merged = concatSplits([emptySplit(), a, emptySplit()]);
    expect(merged.count).toBe(1);
    expect(Array.from(merged.labels)).toEqual([7]);
    expect(merged.images).toEqual(a.images);
    const none = concatSplits([]);
    expect(none.count).toBe(0);
    expect(none.images.length).toBe(0);
    expect(none.labels.length).toBe(0);
  });

  it('returns a single split as is', () => {
    const a = syntheticSplit([1, 2]);
    expect(concatSplits([a])).toBe(a);
  });
});

describe('selectRecords', () => {
  const split = syntheticSplit([5, 6, 7], 9);

  it('picks records by index in the given order, repeats allowed', () => {
    const picked = selectRecords(split, [2, 0, 2]);
    expect(picked.count).toBe(3);
    expect(Array.from(picked.labels)).toEqual([7, 5, 7]);
    expect(image(picked, 0)).toEqual(image(split, 2));
    expect(image(picked, 1)).toEqual(image(split, 0));
    expect(image(picked, 2)).toEqual(image(split, 2));
  });

  it('gives an empty split for no indices', () => {
    const none = selectRecords(split, []);
    expect(none.count).toBe(0);
    expect(none.images.length).toBe(0);
  });

  it('refuses out-of-range indices', () => {
    const high = errorOf(() => selectRecords(split, [0, 3]));
    expect(high).toBeInstanceOf(RangeError);
    expect(high.message).toBe('record 3 is outside 0..2');
    expect(errorOf(() => selectRecords(split, [-1])).message).toBe('record -1 is outside 0..2');
  });
});
