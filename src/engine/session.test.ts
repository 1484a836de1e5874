import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREPARED_DATA_DIR } from '../cli/dataFiles';
import { RECORD_BYTES } from './data/cifar10';
import { LabSession } from './session';

const session = () =>
  new LabSession({
    readPreparedFile: async (path) => new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path))),
  });

describe('LabSession', () => {
  it('keeps the active dataset when an upload is bad, and switches on a good one', async () => {
    const lab = session();
    const embedded = await lab.usePreparedSet('embedded');
    expect(embedded).toMatchObject({ id: 'embedded', trainSize: 10_000, testSize: 2_000 });

    const bad = { name: 'test_batch.bin', bytes: new Uint8Array(RECORD_BYTES * 2 - 1) };
    expect(() => lab.useUploads([bad])).toThrow(
      'test_batch.bin: 6,145 bytes is not a whole number of 3,073-byte records',
    );
    expect(lab.activeDataset().id).toBe('embedded');
    expect(lab.activeDataset().train.count).toBe(10_000);

    const records = new Uint8Array(await readFile(join(PREPARED_DATA_DIR, 'embedded/test.bin'))).subarray(
      0,
      50 * RECORD_BYTES,
    );
    const summary = lab.useUploads([{ name: 'test_batch.bin', bytes: records }]);
    expect(summary).toMatchObject({ trainSize: 0, testSize: 50 });
    // With no training split, samples come from the test split.
    const samples = lab.samples(40, 3);
    expect(samples).toHaveLength(40);
    expect(new Set(samples.map((s) => s.index)).size).toBe(40);
    expect(samples.every((s) => s.split === 'test' && s.rgba.length === 32 * 32 * 4)).toBe(true);
  });

  it('samples are fixed by seed and differ between seeds', async () => {
    const lab = session();
    await lab.usePreparedSet('embedded');
    const a = lab.samples(48, 1).map((s) => s.index);
    expect(lab.samples(48, 1).map((s) => s.index)).toEqual(a);
    expect(lab.samples(48, 2).map((s) => s.index)).not.toEqual(a);
  });

  it('refuses to sample before a dataset is loaded', () => {
    expect(() => session().samples(4, 1)).toThrow('no dataset is loaded yet');
  });
});
