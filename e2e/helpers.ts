import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

import { RECORD_BYTES } from '../src/engine/data/cifar10';

// The tests check the page against the engine's own names and layout.
export { CIFAR10_CLASSES, RECORD_BYTES } from '../src/engine/data/cifar10';
const DATA_DIR = join(import.meta.dirname, '..', 'public', 'data');

/** The first `count` records of a prepared file: real CIFAR-10 bytes in the official layout. */
export const preparedRecords = (path: string, count: number): Buffer =>
  readFileSync(join(DATA_DIR, path)).subarray(0, count * RECORD_BYTES);

/** Uploads the first `train` training and `test` test images of the embedded set, as a user's .bin files. */
export async function uploadPrepared(page: Page, train: number, test: number): Promise<void> {
  await page
    .getByTestId('dataset-upload')
    .locator('input')
    .setInputFiles([
      {
        name: 'data_batch_1.bin',
        mimeType: 'application/octet-stream',
        buffer: preparedRecords('embedded/train.bin', train),
      },
      {
        name: 'test_batch.bin',
        mimeType: 'application/octet-stream',
        buffer: preparedRecords('embedded/test.bin', test),
      },
    ]);
}

/** Waits until the lab shows a loaded dataset and a started backend. */
export async function openLab(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('sample').first()).toBeVisible();
}

/** Per-canvas pixel statistics, read in the page: proves the grid shows real, distinct images. */
export function canvasStats(page: Page) {
  return page.getByTestId('sample-grid').evaluate((grid) =>
    Array.from(grid.querySelectorAll('canvas'), (canvas) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, 32, 32);
      let sum = 0;
      let sumSq = 0;
      let hash = 0;
      for (let i = 0; i < data.length; i++) {
        if (i % 4 === 3) continue;
        sum += data[i]!;
        sumSq += data[i]! * data[i]!;
        hash = (hash * 31 + data[i]!) | 0;
      }
      const n = (data.length / 4) * 3;
      return { mean: sum / n, std: Math.sqrt(sumSq / n - (sum / n) ** 2), hash };
    }),
  );
}
