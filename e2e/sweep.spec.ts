import { expect, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';

test('sweep: a 2 x 2 grid and the CE baseline from the shipped teacher fill the heatmap; the best cell is named', async ({
  page,
}) => {
  const started = Date.now();
  await openLab(page, '?backend=wasm');
  // A small slice keeps each cell short: 128 images in batches of 64, 50 test images.
  await uploadPrepared(page, 128, 50);
  await expect(page.getByTestId('dataset-summary')).toContainText('128');
  await expect(page.getByTestId('distill-teacher')).toHaveAttribute('data-has-teacher', 'true');
  const panel = page.getByTestId('sweep-panel');
  await panel.scrollIntoViewIfNeeded();
  // The guide's default grid until edited: 5 x 3.
  await expect(panel.getByTestId('sweep-cell')).toHaveCount(15);
  await page.getByTestId('sweep-temperatures').fill('1, 4');
  await page.getByTestId('sweep-alphas').fill('0.5, 0.9');
  await page.getByTestId('sweep-steps').fill('2');
  // A bad value is named and nothing runs.
  await page.getByTestId('sweep-temperatures').fill('1, 0');
  await page.getByTestId('sweep-start').click();
  await expect(page.getByTestId('sweep-error')).toHaveText('temperature must be between 0.5 and 20; got "0"');
  await page.getByTestId('sweep-temperatures').fill('1, 4');
  await page.getByTestId('sweep-start').click();

  const status = page.getByTestId('sweep-status');
  await expect(status).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(status).toHaveText('5 of 5 runs done');
  const cells = panel.getByTestId('sweep-cell');
  await expect(cells).toHaveCount(4);
  const accuracies: { t: string; alpha: string; acc: number }[] = [];
  for (const cell of await cells.all()) {
    await expect(cell).toHaveAttribute('data-status', 'done');
    await expect(cell.locator('.sweep-acc')).toHaveText(/^\d{1,3}\.\d%$/);
    const acc = Number(await cell.getAttribute('data-accuracy'));
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    accuracies.push({
      t: (await cell.getAttribute('data-t'))!,
      alpha: (await cell.getAttribute('data-alpha'))!,
      acc,
    });
  }
  expect(accuracies.map((a) => `${a.t}/${a.alpha}`)).toEqual(['1/0.5', '1/0.9', '4/0.5', '4/0.9']);
  const baseline = page.getByTestId('sweep-baseline');
  await expect(baseline).toContainText(/CE baseline: \d{1,3}\.\d%/);
  const base = Number(await baseline.getAttribute('data-accuracy'));
  expect(base).toBeGreaterThanOrEqual(0);
  // The named best cell is the highest accuracy (the first of equals), with its points against the baseline.
  const top = accuracies.reduce((a, b) => (b.acc > a.acc ? b : a));
  const best = page.getByTestId('sweep-best');
  await expect(best).toHaveAttribute('data-t', top.t);
  await expect(best).toHaveAttribute('data-alpha', top.alpha);
  await expect(best).toContainText(
    `Best cell: T = ${top.t}, alpha = ${top.alpha}, ${(top.acc * 100).toFixed(1)}%`,
  );
  await expect(panel.locator('.sweep-best-cell')).toHaveCount(1);
  // Resume on a grid extended by one temperature runs only the two new cells; the kept ones stay as they were.
  await page.getByTestId('sweep-temperatures').fill('1, 4, 8');
  await page.getByTestId('sweep-resume').click();
  await expect(status).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  await expect(status).toHaveText('7 of 7 runs done');
  await expect(cells).toHaveCount(6);
  for (const { t, alpha, acc } of accuracies)
    await expect(
      panel.locator(`[data-testid=sweep-cell][data-t="${t}"][data-alpha="${alpha}"]`),
    ).toHaveAttribute('data-accuracy', String(acc));
  await expect(panel.locator('[data-testid=sweep-cell][data-t="8"][data-status=done]')).toHaveCount(2);
  await expect(baseline).toHaveAttribute('data-accuracy', String(base));
  // Run sweep starts afresh; Cancel during the first cell after the baseline keeps the baseline alone.
  await page.getByTestId('sweep-steps').fill('40');
  await page.getByTestId('sweep-start').click();
  await expect(status).toHaveAttribute('data-done', '1', { timeout: 30_000 });
  await page.getByTestId('sweep-cancel').click();
  await expect(status).toHaveAttribute('data-status', 'cancelled');
  await expect(status).toHaveText('1 of 7 runs done (cancelled)');
  await expect(panel.locator('[data-testid=sweep-cell][data-status=done]')).toHaveCount(0);
  await expect(page.getByTestId('sweep-resume')).toBeEnabled();
  await panel.screenshot({ path: test.info().outputPath('sweep-panel.png') });
  test.info().annotations.push({
    type: 'sweep 2 x 2 + baseline, 2 steps each (ms)',
    description: String(Date.now() - started),
  });
});
