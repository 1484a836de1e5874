import { encode as encodePng } from 'fast-png';
import { zipSync } from 'fflate';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { IMAGE_BYTES, PIXELS } from '../data/cifar10';
import { errorOf } from '../../testing/errorOf';

const messageOf = (fn: () => unknown) => errorOf(fn).message;
import { resizeToRecord } from './imageFiles';
import { noiseSet, oodSetFromFiles } from './oodSets';

/** A width x height RGB(A) image whose red channel is a horizontal ramp and green a vertical one, blue 200. */
function ramp(width: number, height: number, channels: 3 | 4 = 3): Uint8Array {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      data[p] = Math.round((255 * x) / Math.max(1, width - 1));
      data[p + 1] = Math.round((255 * y) / Math.max(1, height - 1));
      data[p + 2] = 200;
      if (channels === 4) data[p + 3] = 255;
    }
  return data;
}

const png = (width: number, height: number) =>
  encodePng({ width, height, data: ramp(width, height), channels: 3, depth: 8 });
const jpeg = (width: number, height: number) =>
  new Uint8Array(encodeJpeg({ width, height, data: ramp(width, height, 4) }, 95).data);

/** Value of channel c at (x, y) of record i of a split. */
const at = (images: Uint8Array, i: number, c: number, x: number, y: number) =>
  images[i * IMAGE_BYTES + c * PIXELS + y * 32 + x]!;

describe('noise sets', () => {
  it('are the same for the same seed and differ for another', () => {
    for (const kind of ['gaussian', 'uniform'] as const) {
      const a = noiseSet(kind, 20, 3);
      expect(a.count).toBe(20);
      expect(a.images.length).toBe(20 * IMAGE_BYTES);
      expect(noiseSet(kind, 20, 3).images).toEqual(a.images);
      expect(noiseSet(kind, 20, 4).images).not.toEqual(a.images);
    }
  });

  it('have the declared distributions: Gaussian mean ~127.5, std ~64; uniform over 0..255', () => {
    const stats = (values: Uint8Array) => {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      return {
        mean,
        std,
        min: values.reduce((m, v) => Math.min(m, v), 255),
        max: values.reduce((m, v) => Math.max(m, v), 0),
      };
    };
    const g = stats(noiseSet('gaussian', 50, 0).images);
    expect(g.mean).toBeGreaterThan(125);
    expect(g.mean).toBeLessThan(130);
    expect(g.std).toBeGreaterThan(60); // 63.75 before clipping, a little less after
    expect(g.std).toBeLessThan(64);
    const u = stats(noiseSet('uniform', 50, 0).images);
    expect(u.mean).toBeGreaterThan(125);
    expect(u.mean).toBeLessThan(130);
    expect([u.min, u.max]).toEqual([0, 255]);
    expect(() => noiseSet('uniform', 0)).toThrow(/whole number of images/);
  });
});

describe('uploaded OoD sets', () => {
  it('reads a folder of PNG and JPEG images of any size, resized to 32x32 in name order', () => {
    const { name, split } = oodSetFromFiles([
      { name: 'b.jpg', bytes: jpeg(64, 48) },
      { name: 'a.png', bytes: png(100, 7) },
      { name: 'c.png', bytes: png(32, 32) },
    ]);
    expect(name).toBe('b.jpg and 2 more');
    expect(split.count).toBe(3);
    // a.png first: red ramps left to right, green top to bottom, blue constant.
    expect(at(split.images, 0, 0, 0, 16)).toBeLessThan(10);
    expect(at(split.images, 0, 0, 31, 16)).toBeGreaterThan(245);
    expect(at(split.images, 0, 1, 16, 0)).toBeLessThan(at(split.images, 0, 1, 16, 31));
    expect(at(split.images, 0, 2, 5, 5)).toBe(200);
    // c.png is already 32x32: copied exactly.
    expect(at(split.images, 2, 0, 31, 0)).toBe(255);
    expect(at(split.images, 2, 1, 0, 31)).toBe(255);
    // The JPEG (lossy) keeps its ramps.
    expect(Math.abs(at(split.images, 1, 2, 10, 10) - 200)).toBeLessThan(8);
    expect(at(split.images, 1, 0, 30, 10)).toBeGreaterThan(at(split.images, 1, 0, 1, 10) + 150);
  });

  it('reads a zip of images (nested folders; macOS resource forks and other files skipped)', () => {
    const zip = zipSync({
      'set/img10.png': png(64, 64),
      'set/img2.jpg': jpeg(40, 40),
      'set/readme.txt': new TextEncoder().encode('hello'),
      '__MACOSX/set/._img2.jpg': new Uint8Array([0, 5, 22, 7]),
    });
    const { split } = oodSetFromFiles([{ name: 'tiny.zip', bytes: zip }]);
    expect(split.count).toBe(2);
    // img2 before img10 (numeric order): its ramp has red high at the right.
    expect(at(split.images, 0, 0, 31, 3)).toBeGreaterThan(240);
  });

  it('reads a CIFAR-binary .bin whatever its label bytes', () => {
    const bytes = new Uint8Array(2 * (IMAGE_BYTES + 1));
    bytes[0] = 199;
    bytes[IMAGE_BYTES + 1] = 3;
    bytes[5] = 77;
    const { split } = oodSetFromFiles([{ name: 'tiny-imagenet.bin', bytes }]);
    expect(split.count).toBe(2);
    expect(split.images[4]).toBe(77);
  });

  it('refuses bad uploads with the file and the reason', () => {
    expect(messageOf(() => oodSetFromFiles([]))).toMatch(/No file given/);
    expect(messageOf(() => oodSetFromFiles([{ name: 'notes.txt', bytes: new Uint8Array(3) }]))).toMatch(
      /^notes\.txt: not a file this panel reads/,
    );
    expect(messageOf(() => oodSetFromFiles([{ name: 'x.bin', bytes: new Uint8Array(100) }]))).toMatch(
      /^x\.bin: 100 bytes is not a whole number of 3,073-byte records/,
    );
    expect(messageOf(() => oodSetFromFiles([{ name: 'broken.png', bytes: png(8, 8).slice(0, 40) }]))).toMatch(
      /^broken\.png: not a readable PNG/,
    );
    expect(
      messageOf(() => oodSetFromFiles([{ name: 'fake.jpg', bytes: new TextEncoder().encode('<html>') }])),
    ).toMatch(/^fake\.jpg: neither a PNG nor a JPEG/);
    expect(
      messageOf(() => oodSetFromFiles([{ name: 'bad.zip', bytes: new Uint8Array([1, 2, 3, 4, 5]) }])),
    ).toMatch(/^bad\.zip: not a readable zip archive/);
    const noImages = zipSync({ 'a.txt': new Uint8Array([1]) });
    expect(messageOf(() => oodSetFromFiles([{ name: 'empty.zip', bytes: noImages }]))).toMatch(
      /^empty\.zip: holds no PNG or JPEG images/,
    );
    const zipWithBad = zipSync({
      'ok.png': png(8, 8),
      'bad.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1]),
    });
    expect(messageOf(() => oodSetFromFiles([{ name: 'mixed.zip', bytes: zipWithBad }]))).toMatch(
      /^mixed\.zip\/bad\.png: not a readable PNG/,
    );
  });

  it('area resampling keeps the mean of a downscaled image and averages 2x2 blocks exactly', () => {
    const width = 64;
    const rgb = new Uint8Array(width * width * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
    const out = new Uint8Array(IMAGE_BYTES);
    resizeToRecord({ width, height: width, rgb }, out, 0);
    for (const [x, y] of [
      [0, 0],
      [5, 17],
      [31, 31],
    ] as const) {
      for (let c = 0; c < 3; c++) {
        const block = [0, 1].flatMap((dy) =>
          [0, 1].map((dx) => rgb[((2 * y + dy) * width + 2 * x + dx) * 3 + c]!),
        );
        const mean = block.reduce((s, v) => s + v, 0) / 4;
        expect(Math.abs(at(out, 0, c, x, y) - mean)).toBeLessThanOrEqual(0.5);
      }
    }
  });
});
