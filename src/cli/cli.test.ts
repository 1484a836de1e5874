import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli';
import { CIFAR10_CLASSES, parseCifarBinary, RECORD_BYTES } from '../engine/data/cifar10';
import { channelStats, classCounts } from '../engine/data/stats';
import { loadPreparedFromDisk, PREPARED_DATA_DIR } from './dataFiles';

const cli = (...args: string[]) => runCli(args);

const fixed = (values: readonly number[]) => values.map((v) => v.toFixed(4)).join(' ');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-cli-test-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm run cli -- data', () => {
  it('prints the embedded set by default: per-class 1,000 / 200 and mean/std lines', async () => {
    const [result, embedded] = await Promise.all([cli('data'), loadPreparedFromDisk('embedded')]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('Embedded default (CIFAR-10, 1,000 train / 200 test per class)');
    expect(out).toContain('train 10,000 images, test 2,000 images');
    for (const name of CIFAR10_CLASSES) {
      expect(out).toMatch(new RegExp(`^${name} +1,000 +200$`, 'm'));
    }
    const stats = channelStats(embedded.train)!;
    expect(out).toMatch(/^mean \(R G B\) \d\.\d{4} \d\.\d{4} \d\.\d{4}$/m);
    expect(out).toMatch(/^std {2}\(R G B\) \d\.\d{4} \d\.\d{4} \d\.\d{4}$/m);
    // The same numbers the engine computes in-process.
    expect(out).toContain(`mean (R G B) ${fixed(stats.mean)}`);
    expect(out).toContain(`std  (R G B) ${fixed(stats.std)}`);
  });

  it('prints the full set as JSON with --set full --json', async () => {
    const result = await cli('data', '--set', 'full', '--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      id: string;
      trainSize: number;
      testSize: number;
      trainClassCounts: number[];
      testClassCounts: number[];
      channelStats: { mean: number[]; std: number[] };
    };
    expect(summary.id).toBe('full');
    expect(summary.trainSize).toBe(50_000);
    expect(summary.testSize).toBe(10_000);
    expect(summary.trainClassCounts).toEqual(new Array(10).fill(5_000));
    expect(summary.testClassCounts).toEqual(new Array(10).fill(1_000));
    expect(summary.channelStats.mean[0]).toBeCloseTo(0.4914, 4);
    expect(summary.channelStats.std[2]).toBeCloseTo(0.2616, 4);
  });

  it('exits 1 with the exact message for a file that is not whole records', async () => {
    const dir = join(tmp, 'bad');
    await mkdir(dir);
    const path = join(dir, 'test_batch.bin');
    const handle = await open(path, 'w');
    await handle.truncate(30_729_999);
    await handle.close();
    const result = await cli('data', '--file', path);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'error: test_batch.bin: 30,729,999 bytes is not a whole number of 3,073-byte records',
    );
    // Bad input, not wrong usage: no usage text.
    expect(result.stderr).not.toContain('Distillery CLI');
  });

  it('exits 2 with the usage for an unknown --set', async () => {
    const result = await cli('data', '--set', 'nope');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: --set must be one of embedded, full; got "nope"');
    expect(result.stderr).toContain('Distillery CLI');
  });

  it('exits 2 for an unknown option', async () => {
    const result = await cli('data', '--bogus');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Distillery CLI');
  });

  it('reads a small valid .bin given with --file like an upload: 0 train / 100 test', async () => {
    const all = await readFile(join(PREPARED_DATA_DIR, 'cifar10', 'test_batch.bin'));
    const bytes = new Uint8Array(all.subarray(0, 100 * RECORD_BYTES));
    const dir = join(tmp, 'good');
    await mkdir(dir);
    const path = join(dir, 'test_batch.bin');
    await writeFile(path, bytes);
    const counts = classCounts(parseCifarBinary(bytes, 'test_batch.bin').labels, 10);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);

    const result = await cli('data', '--file', path);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Uploaded: test_batch.bin (0 train / 100 test)');
    expect(result.stdout).toContain('train 0 images, test 100 images');
    CIFAR10_CLASSES.forEach((name, c) => {
      expect(result.stdout).toMatch(new RegExp(`^${name} +0 +${counts[c]}$`, 'm'));
    });
    expect(result.stdout).toContain('mean/std: no training images');
  });
});
