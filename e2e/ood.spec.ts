import { expect, type Page, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';

const panel = (page: Page) => page.getByTestId('ood-panel');

/**
 * The shipped teacher against MNIST on a small slice of the embedded set (600 training images for the anchors,
 * 200 test images; MNIST then has 200 too), so the whole analysis takes seconds on wasm.
 */
test('trust panel: teacher vs MNIST gives AUROC for all four scores, a histogram, a reliability diagram; a bad upload is refused by name and the table stays', async ({
  page,
}) => {
  await openLab(page, '?backend=wasm');
  await uploadPrepared(page, 600, 200);
  await expect(page.getByTestId('dataset-summary')).toHaveAttribute('data-dataset-id', /^upload:/);
  const teacher = panel(page).getByTestId('ood-model-teacher');
  await expect(teacher).toBeChecked({ timeout: 60_000 });
  await expect(panel(page).getByTestId('ood-set-mnist')).toBeChecked();

  await panel(page).getByTestId('ood-run').click();
  const table = panel(page).getByTestId('ood-table');
  await expect(table).toBeVisible({ timeout: 90_000 });
  const aurocs: Record<string, number> = {};
  for (const score of ['msp', 'entropy', 'energy', 'anchorU']) {
    const text = await table
      .locator(`tr[data-score="${score}"][data-set="mnist"] td[data-metric="auroc"]`)
      .textContent();
    expect(text).toMatch(/^[01]\.\d{3}$/);
    aurocs[score] = Number(text);
  }
  // Anchor uncertainty separates MNIST from CIFAR-10 far better than the softmax scores (0.99 on 2,000 images).
  expect(aurocs.anchorU).toBeGreaterThan(0.9);
  expect(aurocs.anchorU).toBeGreaterThan(aurocs.msp!);

  // The histogram is an svg with bars of both sets (the default view: anchor uncertainty).
  const histogram = panel(page).getByTestId('ood-histogram');
  const barLayers = histogram.locator('svg .recharts-bar');
  await expect(barLayers).toHaveCount(2);
  for (const layer of await barLayers.all())
    expect(await layer.locator('.recharts-bar-rectangle path, .recharts-rectangle').count()).toBeGreaterThan(
      0,
    );
  await expect(
    panel(page).getByTestId('reliability-diagram').locator('svg .recharts-bar-rectangle').first(),
  ).toBeVisible();
  await expect(panel(page).getByTestId('ood-ece').first()).toHaveText(/^0\.\d{4}$/);

  await panel(page)
    .getByTestId('ood-upload')
    .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not images') });
  await expect(panel(page).getByTestId('ood-upload-error')).toContainText(
    'notes.txt: not a file this panel reads',
  );
  await expect(table).toBeVisible();
  await expect(panel(page).getByTestId('ood-set-mnist')).toBeVisible();
});

/**
 * The first visit's own path: the embedded set and the shipped teacher, whose model.json carries its anchors
 * (no pass over the 10,000 training images), against MNIST; the AUROCs are the baseline table's.
 */
test('trust panel on a first visit: the shipped teacher reads its stored anchors and reproduces the MNIST baseline', async ({
  page,
}) => {
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('dataset-summary')).toHaveAttribute('data-dataset-id', 'embedded');
  await expect(panel(page).getByTestId('ood-model-teacher')).toBeChecked({ timeout: 60_000 });
  await panel(page).getByTestId('ood-run').click();
  const table = panel(page).getByTestId('ood-table');
  await expect(table).toBeVisible({ timeout: 120_000 });
  const summary = panel(page).getByTestId('ood-summary');
  await expect(summary).toContainText('2,000 test images');
  await expect(summary).toContainText('(10, stored with the teacher)');
  const baseline = { msp: 0.771, entropy: 0.782, energy: 0.787, anchorU: 0.994 };
  for (const [score, auroc] of Object.entries(baseline)) {
    const text = await table
      .locator(`tr[data-score="${score}"][data-set="mnist"] td[data-metric="auroc"]`)
      .textContent();
    expect(Math.abs(Number(text) - auroc), `${score} AUROC ${text}`).toBeLessThanOrEqual(0.002);
  }
  console.log(`first-visit trust panel: ${await summary.textContent()}`);
});
