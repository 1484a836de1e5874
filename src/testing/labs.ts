/**
 * Test helper: engine sessions on small real CIFAR-10 uploads, with a random-weight teacher imported through
 * the same files a user would download and import.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PREPARED_DATA_DIR } from '../cli/dataFiles';
import { RECORD_BYTES } from '../engine/data/cifar10';
import { findPreset } from '../engine/models/presets';
import { LabSession } from '../engine/session';
import type { KnownBySet } from '../engine/training/checkpoint';
import { exportModel } from '../engine/training/labModels';

/** The first `count` records of a prepared file (real images, the official layout). */
export const preparedRecords = async (path: string, count: number) =>
  new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path))).subarray(0, count * RECORD_BYTES);

/** A lab whose dataset is an upload of the first `train` training and `test` test images of the embedded set. */
export async function uploadLab(train: number, test: number): Promise<LabSession> {
  const lab = new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) });
  lab.useUploads([
    { name: 'data_batch_1.bin', bytes: await preparedRecords('embedded/train.bin', train) },
    { name: 'test_batch.bin', bytes: await preparedRecords('embedded/test.bin', test) },
  ]);
  return lab;
}

/**
 * Imports a seeded random-weight vgg-fast teacher, with `known` accuracies or anchors in its metadata; returns
 * its files (model.json, weights.bin).
 */
export async function importRandomTeacher(
  lab: LabSession,
  known: KnownBySet = {},
): Promise<Record<string, Uint8Array>> {
  const teacher = findPreset('vgg-fast').build(3);
  const files = Object.fromEntries(
    (await exportModel(teacher, 'vgg-fast', 'teacher', known)).map((f) => [f.name, f.bytes]),
  );
  teacher.dispose();
  await lab.importTeacher({
    modelJson: files['model.json']!,
    weights: files['weights.bin']!,
    name: 'model.json',
  });
  return files;
}
