import { expect, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';

test('mutual learning: two students train together, two loss curves, both final accuracies', async ({
  page,
}) => {
  await openLab(page, '?backend=wasm');
  // A small slice keeps the run to a few steps: 256 images in batches of 64.
  await uploadPrepared(page, 256, 100);
  await expect(page.getByTestId('dataset-summary')).toContainText('256');
  const panel = page.getByTestId('mutual-panel');
  await panel.scrollIntoViewIfNeeded();
  await page.getByTestId('mutual-model-1').selectOption('cnn-small');
  await page.getByTestId('mutual-model-2').selectOption('resnet8');
  await page.getByTestId('mutual-epochs').fill('2');
  await page.getByTestId('mutual-start').click();
  const chart = page.getByTestId('mutual-chart');
  await expect(chart).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(chart).toHaveAttribute('data-curves', '2');
  // 2 epochs of 4 steps, every step logged on wasm.
  await expect(chart).toHaveAttribute('data-points', '8');
  await expect(chart.locator('.recharts-line')).toHaveCount(2);
  await expect(page.getByTestId('mutual-epochs-done')).toContainText('2 epochs done');
  for (const name of ['student1', 'student2'])
    await expect(page.getByTestId(`mutual-accuracy-${name}`)).toHaveText(/^\d{1,3}\.\d%$/);
  await expect(page.getByTestId('mutual-results')).toContainText('resnet8');
  await expect(page.getByTestId('mutual-error')).toHaveCount(0);
});
