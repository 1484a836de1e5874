import { expect, test } from '@playwright/test';
import { CIFAR10_CLASSES, canvasStats, openLab } from './helpers';

test('opens on the embedded default: backend badge, summary and 40+ real CIFAR-10 images', async ({
  page,
}) => {
  const started = Date.now();
  await openLab(page);
  test.info().annotations.push({ type: 'first images (ms)', description: String(Date.now() - started) });

  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveAttribute('data-backend', /^(webgpu|webgl|wasm|cpu)$/);
  await expect(page.getByTestId('backend-adapter')).not.toBeEmpty();
  await expect(page.getByTestId('backend-software')).toHaveAttribute('data-software', /^(true|false)$/);

  const summary = page.getByTestId('dataset-summary');
  await expect(summary).toHaveAttribute('data-dataset-id', 'embedded');
  await expect(page.getByTestId('train-size')).toHaveText('10,000');
  await expect(page.getByTestId('test-size')).toHaveText('2,000');
  for (const name of CIFAR10_CLASSES)
    await expect(summary.getByRole('row', { name: `${name} 1,000 200` })).toBeVisible();
  await expect(page.getByTestId('channel-stats')).toContainText('0.4934 / 0.4838 / 0.4476');

  const samples = page.getByTestId('sample');
  expect(await samples.count()).toBeGreaterThanOrEqual(40);
  const labels = await samples.evaluateAll((items) => items.map((item) => item.getAttribute('data-label')));
  for (const label of labels) expect(CIFAR10_CLASSES).toContain(label);
  expect(new Set(labels).size).toBeGreaterThanOrEqual(5);

  // Real photographs: every canvas has texture, and no two are the same picture.
  const stats = await canvasStats(page);
  expect(stats.length).toBe(labels.length);
  for (const s of stats) expect(s.std).toBeGreaterThan(5);
  expect(new Set(stats.map((s) => s.hash)).size).toBe(stats.length);

  // The anchor gallery is built (e2e/anchors.spec.ts drives it): before a preview it shows no anchors.
  await expect(page.getByTestId('anchors-empty')).toBeVisible();
  // The trust panel is built (e2e/ood.spec.ts drives it).
  await expect(page.getByTestId('ood-panel')).toBeVisible();
  await expect(page.getByTestId('panel-distillation')).toBeVisible();
  await expect(page.getByTestId('panel-teacher')).toBeVisible();
  await expect(page.getByTestId('panel-student')).toBeVisible();
});

test('reshuffle shows other images', async ({ page }) => {
  await openLab(page);
  const before = (await canvasStats(page)).map((s) => s.hash);
  await page.getByTestId('reshuffle').click();
  await expect(page.getByTestId('sample-grid')).toHaveAttribute('data-seed', '2');
  await expect.poll(async () => (await canvasStats(page)).map((s) => s.hash)).not.toEqual(before);
  expect((await canvasStats(page)).length).toBeGreaterThanOrEqual(40);
});

test('the full set is selectable and keeps its setting in the URL', async ({ page }) => {
  await openLab(page);
  await page.getByTestId('set-full').check();
  await expect(page.getByTestId('train-size')).toHaveText('50,000', { timeout: 60_000 });
  await expect(page.getByTestId('test-size')).toHaveText('10,000');
  await expect(page.getByTestId('dataset-summary')).toHaveAttribute('data-dataset-id', 'full');
  await expect(page.getByTestId('channel-stats')).toContainText('0.4914 / 0.4822 / 0.4465');
  await expect(page).toHaveURL(/[?&]set=full/);
});
