import { encode as encodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IMAGE_BYTES, IMAGE_SIZE, PIXELS } from '../src/engine/data/cifar10';
import { errorOf } from '../src/testing/errorOf';

// Importing the script must not run its main(): every file-system write and the `npm pack` download are
// replaced by spies that do nothing (so a broken guard cannot touch public/data), and the test below checks
// that none of them, nor the reads main() starts with, was called.
const blocked = () => Promise.reject(new Error('blocked in prepare-data.test.ts'));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    readFile: vi.fn(blocked),
    writeFile: vi.fn(blocked),
    mkdir: vi.fn(blocked),
    rename: vi.fn(blocked),
    stat: vi.fn(blocked),
  };
});
vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:child_process')>();
  return {
    ...actual,
    execFile: vi.fn((...args: unknown[]) => {
      const callback = args.at(-1);
      if (typeof callback === 'function') callback(new Error('blocked in prepare-data.test.ts'));
    }),
  };
});

type Script = typeof import('./prepare-data');
let script: Script;
const logSpy = vi.spyOn(console, 'log');
const errorSpy = vi.spyOn(console, 'error');
const exitSpy = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);

beforeAll(async () => {
  script = await import('./prepare-data');
  // Give an unguarded async main() time to reach its first file access and its log lines.
  await new Promise((resolve) => setTimeout(resolve, 100));
});

afterAll(() => {
  logSpy.mockRestore();
  errorSpy.mockRestore();
  exitSpy.mockRestore();
});

describe('importing scripts/prepare-data.ts', () => {
  it('does not run main(): nothing read, written, downloaded or logged', async () => {
    const fs = await import('node:fs/promises');
    const childProcess = await import('node:child_process');
    // The spies are what the script sees (same module registry).
    expect(vi.isMockFunction(fs.writeFile)).toBe(true);
    expect(fs.readFile).not.toHaveBeenCalled();
    expect(fs.stat).not.toHaveBeenCalled();
    expect(fs.mkdir).not.toHaveBeenCalled();
    expect(fs.writeFile).not.toHaveBeenCalled();
    expect(fs.rename).not.toHaveBeenCalled();
    expect(childProcess.execFile).not.toHaveBeenCalled();
    expect(logSpy).not.toHaveBeenCalled();
    expect(errorSpy).not.toHaveBeenCalled();
    expect(exitSpy).not.toHaveBeenCalled();
    expect(script.DATA_DIR).toMatch(/public[/\\]data$/);
  });
});

describe('spriteToImages', () => {
  const width = IMAGE_SIZE * IMAGE_SIZE;
  /** Interleaved RGB byte for sprite row `row`, pixel `p`, channel `c`. */
  const value = (row: number, p: number, c: number) => (row * 31 + p * 3 + c * 101) & 255;

  function sprite(rows: number, w = width, channels = 3): Uint8Array {
    const data = new Uint8Array(w * rows * channels);
    for (let row = 0; row < rows; row++) {
      for (let p = 0; p < w; p++) {
        for (let c = 0; c < channels; c++) data[(row * w + p) * channels + c] = value(row, p, c);
      }
    }
    return encodePng({ width: w, height: rows, data, channels, depth: 8 });
  }

  it('turns each 1,024-pixel RGB row into one channel-major image', () => {
    const images = script.spriteToImages(sprite(3), 'data_batch_1.png');
    expect(images).toBeInstanceOf(Uint8Array);
    expect(images.length).toBe(3 * IMAGE_BYTES);
    // Spot checks: image 1, pixel (y=1, x=2) = 34, in each plane; image 2's last B byte.
    expect(images[IMAGE_BYTES + 34]).toBe(value(1, 34, 0));
    expect(images[IMAGE_BYTES + PIXELS + 34]).toBe(value(1, 34, 1));
    expect(images[IMAGE_BYTES + 2 * PIXELS + 34]).toBe(value(1, 34, 2));
    expect(images[3 * IMAGE_BYTES - 1]).toBe(value(2, 1023, 2));
    for (let row = 0; row < 3; row++) {
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < PIXELS; p++) {
          if (images[row * IMAGE_BYTES + c * PIXELS + p] !== value(row, p, c)) {
            throw new Error(`image ${row}, channel ${c}, pixel ${p}: wrong value`);
          }
        }
      }
    }
  });

  it('refuses a PNG of the wrong width, naming the file and the shape', () => {
    const error = errorOf(() => script.spriteToImages(sprite(2, 512), 'test_batch.png'));
    expect(error.message).toBe(
      'test_batch.png: expected an 8-bit RGB PNG 1024 pixels wide, got 512x2x3 at 8 bits',
    );
  });

  it('refuses an RGBA PNG of the right width', () => {
    const error = errorOf(() => script.spriteToImages(sprite(2, width, 4), 'data_batch_2.png'));
    expect(error.message).toBe(
      'data_batch_2.png: expected an 8-bit RGB PNG 1024 pixels wide, got 1024x2x4 at 8 bits',
    );
  });
});

describe('mnistDigitsToImages', () => {
  const perImage = 28 * 28;
  /** A 28x28 digit whose pixel (y, x) is a distinct value in [0, 1]. */
  const digitImage = (shift: number) =>
    Array.from({ length: perImage }, (_, i) => ((i + shift) % perImage) / (perImage - 1));

  it('pads 28x28 digits to 32x32, grey copied to R, G and B, labelled by digit', () => {
    const digits = [
      digitImage(0), // digit 0: one image
      [], // digit 1: none
      [...digitImage(100), ...digitImage(200)], // digit 2: two images
      [...digitImage(300), 0.5, 0.5], // digit 3: one image and a stray partial one (dropped)
    ];
    const split = script.mnistDigitsToImages(digits);
    expect(split.count).toBe(4);
    expect(Array.from(split.labels)).toEqual([0, 2, 2, 3]);
    expect(split.images.length).toBe(4 * IMAGE_BYTES);

    const sources = [digitImage(0), digitImage(100), digitImage(200), digitImage(300)];
    sources.forEach((source, i) => {
      for (let c = 0; c < 3; c++) {
        const plane = split.images.subarray(i * IMAGE_BYTES + c * PIXELS, i * IMAGE_BYTES + (c + 1) * PIXELS);
        for (let y = 0; y < 32; y++) {
          for (let x = 0; x < 32; x++) {
            const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
            const expected = inside ? Math.round(source[(y - 2) * 28 + (x - 2)]! * 255) : 0;
            if (plane[y * 32 + x] !== expected) {
              throw new Error(`image ${i}, channel ${c}, (${y}, ${x}): ${plane[y * 32 + x]} != ${expected}`);
            }
          }
        }
      }
    });
    // Spot checks on image 0: source (0, 0) is 0, source (27, 27) is 1, source (5, 7) is 147/783.
    const img0 = split.images.subarray(0, IMAGE_BYTES);
    expect(img0[2 * 32 + 2]).toBe(0);
    expect(img0[29 * 32 + 29]).toBe(255);
    expect(img0[(5 + 2) * 32 + (7 + 2)]).toBe(Math.round((147 / 783) * 255));
    expect(img0[PIXELS + (5 + 2) * 32 + (7 + 2)]).toBe(img0[(5 + 2) * 32 + (7 + 2)]);
    expect(img0[2 * PIXELS + (5 + 2) * 32 + (7 + 2)]).toBe(img0[(5 + 2) * 32 + (7 + 2)]);
  });

  it('clamps values outside [0, 1]', () => {
    const values = new Array<number>(perImage).fill(0.5);
    values[0] = -0.3;
    values[1] = 1.7;
    const split = script.mnistDigitsToImages([values]);
    expect(split.images[2 * 32 + 2]).toBe(0);
    expect(split.images[2 * 32 + 3]).toBe(255);
    expect(split.images[2 * 32 + 4]).toBe(128);
  });
});
