import { expect, type Page, test } from '@playwright/test';
import { gzipSync } from 'fflate';
import { createTar } from 'nanotar';
import { canvasStats, openLab, preparedRecords, RECORD_BYTES } from './helpers';

const uploadInput = (page: Page) => page.getByTestId('dataset-upload').locator('input');

async function expectEmbeddedStillActive(page: Page) {
  await expect(page.getByTestId('dataset-summary')).toHaveAttribute('data-dataset-id', 'embedded');
  await expect(page.getByTestId('train-size')).toHaveText('10,000');
  await expect(page.getByTestId('set-embedded')).toBeChecked();
  expect(await page.getByTestId('sample').count()).toBeGreaterThanOrEqual(40);
}

test('a truncated .bin is refused with a message naming the problem; the dataset stays', async ({ page }) => {
  await openLab(page);
  const truncated = preparedRecords('cifar10/test_batch.bin', 10_000).subarray(0, 10_000 * RECORD_BYTES - 1);
  await uploadInput(page).setInputFiles({
    name: 'test_batch.bin',
    mimeType: 'application/octet-stream',
    buffer: truncated,
  });
  await expect(page.getByTestId('error-banner')).toContainText(
    'test_batch.bin: 30,729,999 bytes is not a whole number of 3,073-byte records',
  );
  await expectEmbeddedStillActive(page);
});

test('a corrupt .tar.gz and a non-CIFAR file are refused by name; the dataset stays', async ({ page }) => {
  await openLab(page);
  const archive = gzipSync(
    createTar([
      { name: 'cifar-10-batches-bin/test_batch.bin', data: preparedRecords('embedded/test.bin', 20) },
    ]),
  );
  await uploadInput(page).setInputFiles({
    name: 'cifar-10-binary.tar.gz',
    mimeType: 'application/gzip',
    buffer: Buffer.from(archive.subarray(0, archive.length >> 1)),
  });
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('cifar-10-binary.tar.gz: the gzip data is corrupt or truncated');
  await uploadInput(page).setInputFiles({
    name: 'holiday.png',
    mimeType: 'image/png',
    buffer: Buffer.from('not an image'),
  });
  await expect(banner).toContainText('holiday.png: not a file this lab reads');
  await expectEmbeddedStillActive(page);
  // Newest first; the older message folds under a count and comes back on request; the same message again
  // is counted, not repeated.
  await expect(page.getByTestId('error-message').first()).toContainText('holiday.png');
  await expect(banner).not.toContainText('the gzip data is corrupt');
  await page.getByTestId('error-older-toggle').click();
  await expect(banner).toContainText('cifar-10-binary.tar.gz: the gzip data is corrupt or truncated');
  await uploadInput(page).setInputFiles({
    name: 'holiday.png',
    mimeType: 'image/png',
    buffer: Buffer.from('not an image'),
  });
  await expect(page.getByTestId('error-message')).toHaveCount(2);
  await expect(page.getByTestId('error-message').first()).toContainText('×2');
  await page.getByTestId('error-dismiss-all').click();
  await expect(banner).toHaveCount(0);
});

test('valid small .bin files switch the lab to them', async ({ page }) => {
  await openLab(page);
  await uploadInput(page).setInputFiles([
    {
      name: 'data_batch_1.bin',
      mimeType: 'application/octet-stream',
      buffer: preparedRecords('embedded/train.bin', 300),
    },
    {
      name: 'test_batch.bin',
      mimeType: 'application/octet-stream',
      buffer: preparedRecords('embedded/test.bin', 100),
    },
  ]);
  await expect(page.getByTestId('dataset-summary')).toHaveAttribute('data-dataset-id', /^upload:/);
  await expect(page.getByTestId('train-size')).toHaveText('300');
  await expect(page.getByTestId('test-size')).toHaveText('100');
  await expect(page.getByTestId('dataset-name')).toContainText('data_batch_1.bin, test_batch.bin');
  const stats = await canvasStats(page);
  expect(stats.length).toBeGreaterThanOrEqual(40);
  for (const s of stats) expect(s.std).toBeGreaterThan(5);
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
});

test('an official-layout .tar.gz dropped on the page becomes the dataset', async ({ page }) => {
  await openLab(page);
  const archive = gzipSync(
    createTar([
      { name: 'cifar-10-batches-bin/batches.meta.txt', data: new TextEncoder().encode('airplane\n') },
      { name: 'cifar-10-batches-bin/data_batch_1.bin', data: preparedRecords('embedded/train.bin', 120) },
      {
        name: 'cifar-10-batches-bin/data_batch_2.bin',
        data: preparedRecords('cifar10/data_batch_2.bin', 80),
      },
      { name: 'cifar-10-batches-bin/test_batch.bin', data: preparedRecords('embedded/test.bin', 60) },
    ]),
  );
  // A real drop: a DataTransfer carrying the file, dispatched where the user would let go (beside the zone).
  const transfer = await page.evaluateHandle((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'cifar-10-binary.tar.gz', { type: 'application/gzip' }));
    return data;
  }, Array.from(archive));
  const target = page.getByTestId('panel-anchors');
  await target.dispatchEvent('dragover', { dataTransfer: transfer });
  await target.dispatchEvent('drop', { dataTransfer: transfer });
  await expect(page.getByTestId('train-size')).toHaveText('200');
  await expect(page.getByTestId('test-size')).toHaveText('60');
  await expect(page).toHaveURL(/\/(\?.*)?$/);
});
