import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';

const historyRuns = (page: Page) => page.getByTestId('history-run');

/** The lab on wasm, no shipped teacher (the runs here need none), a 256-image upload: an epoch in seconds. */
async function openSmallLab(page: Page) {
  await page.route('**/teacher/model.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('panel-history')).toHaveAttribute('data-status', /ready|unavailable/);
  await uploadPrepared(page, 256, 100);
  await expect(page.getByTestId('train-size')).toHaveText('256');
}

/** A two-epoch `ce` baseline in the Distillation panel (4 steps an epoch), to its end. */
async function baselineRun(page: Page) {
  await expect(page.getByTestId('distill-baseline-start')).toBeEnabled();
  await page.getByTestId('distill-epochs').fill('2');
  await page.getByTestId('distill-baseline-start').click();
  await expect(page.getByTestId('distill-progress')).toHaveAttribute('data-status', 'done', {
    timeout: 60_000,
  });
}

async function download(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

test('two runs are kept across a reload, overlay their curves, export as CSV and JSON; a malformed import is refused', async ({
  page,
}) => {
  await openSmallLab(page);
  await expect(page.getByTestId('history-empty')).toBeVisible();
  // A distillation (the baseline) and a Student panel training: both kinds of run end in the history.
  await baselineRun(page);
  await expect(historyRuns(page)).toHaveCount(1);
  await page.getByTestId('student-epochs').fill('2');
  await page.getByTestId('student-train-start').click();
  await expect(page.getByTestId('student-progress')).toHaveAttribute('data-status', 'done', {
    timeout: 60_000,
  });
  await expect(historyRuns(page)).toHaveCount(2);
  // Newest first: the Student panel's run, then the distillation.
  const student = historyRuns(page).nth(0);
  await student.getByTestId('history-rename').click();
  await student.getByTestId('history-name-input').fill('student 2 epochs');
  await student.getByTestId('history-name-input').press('Enter');
  await expect(student.getByTestId('history-name')).toHaveText('student 2 epochs');

  await page.reload();
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-status', 'ready');
  await expect(historyRuns(page)).toHaveCount(2);
  await expect(historyRuns(page).nth(0).getByTestId('history-name')).toHaveText('student 2 epochs');
  for (const i of [0, 1]) {
    await expect(historyRuns(page).nth(i)).toHaveAttribute('data-outcome', 'done');
    await expect(historyRuns(page).nth(i).getByTestId('history-accuracy')).toHaveText(/^\d{1,3}\.\d%$/);
  }
  await expect(historyRuns(page).nth(1)).toContainText('ce');

  // Both chosen: two lines on each overlay chart.
  for (const i of [0, 1]) await historyRuns(page).nth(i).getByTestId('history-select').check();
  const accuracy = page.getByTestId('history-accuracy-chart');
  await expect(accuracy).toHaveAttribute('data-series', '2');
  await expect(accuracy.locator('path.recharts-line-curve')).toHaveCount(2);
  const loss = page.getByTestId('history-loss-chart');
  await expect(loss).toHaveAttribute('data-term', 'total');
  await expect(loss.locator('path.recharts-line-curve')).toHaveCount(2);
  expect(Number(await loss.getAttribute('data-points'))).toBeGreaterThanOrEqual(8);

  const csv = await download(page, 'history-export-csv');
  expect(csv.name).toMatch(/^distillery-runs-.*\.csv$/);
  const lines = csv.text.trimEnd().split('\r\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^name,created_at,panel,method,.*,test_top1,.*,id$/);
  // One row per chosen run, in the order chosen (the id is the last column).
  const ids = await historyRuns(page).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
  expect(lines[1]!.endsWith(`,${ids[0]}`)).toBe(true);
  expect(lines[2]!.endsWith(`,${ids[1]}`)).toBe(true);
  expect(lines[1]).toMatch(/^student 2 epochs,/);

  // JSON round trip: the export, changed into another method's run, is imported and can be filtered on.
  const json = JSON.parse((await download(page, 'history-export-json')).text) as {
    runs: { id: string; method: string; name: string; config: Record<string, unknown> }[];
  };
  expect(json.runs).toHaveLength(2);
  const kd = { ...json.runs[1]!, id: 'imported-kd', method: 'kd', name: 'imported kd' };
  const importInput = page.getByTestId('history-import').locator('input');
  await importInput.setInputFiles({
    name: 'kd.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ ...kd, format: 'distillery-run', version: 1 })),
  });
  await expect(historyRuns(page)).toHaveCount(3);
  await page.getByTestId('history-filter').selectOption('kd');
  await expect(historyRuns(page)).toHaveCount(1);
  await expect(historyRuns(page).getByTestId('history-name')).toHaveText('imported kd');
  await page.getByTestId('history-filter').selectOption('');

  // Malformed: refused with the field and the reason; nothing is added.
  const bad = { ...kd, id: 'bad', config: { ...kd.config, learningRate: 'fast' } };
  await importInput.setInputFiles({
    name: 'bad.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ ...bad, format: 'distillery-run', version: 1 })),
  });
  await expect(page.getByTestId('history-import-error')).toHaveText(
    /^bad\.json was not imported: config\.learningRate: learning rate must be a number/,
  );
  await expect(historyRuns(page)).toHaveCount(3);

  await page
    .locator('[data-testid=history-run][data-run-id="imported-kd"]')
    .getByTestId('history-delete')
    .click();
  await expect(historyRuns(page)).toHaveCount(2);
});

test('storage full: the lab names QuotaExceededError in its banner and keeps no half-written run', async ({
  page,
}) => {
  // The browser refuses every write to the history's store, as a full disk quota does.
  await page.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
      if (this.name === 'runs') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  await openSmallLab(page);
  await baselineRun(page);
  await expect(page.getByTestId('error-banner')).toContainText(
    "Run history: the browser's storage for this site is full (QuotaExceededError)",
  );
  await expect(historyRuns(page)).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('panel-history')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('history-empty')).toBeVisible();
});

test('IndexedDB unavailable: a named message, and the lab still works', async ({ page }) => {
  await page.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('panel-history')).toHaveAttribute('data-status', 'unavailable');
  await expect(page.getByTestId('error-banner')).toContainText(
    "Run history: this browser's storage (IndexedDB) is unavailable (IndexedDBUnavailable",
  );
  await expect(page.getByTestId('distill-baseline-start')).toBeEnabled();
});

test('a trust-panel measurement of a kept run is kept with it: ECE and OoD AUROCs, after a reload too', async ({
  page,
}) => {
  await openLab(page, '?backend=wasm');
  await uploadPrepared(page, 256, 100);
  await expect(page.getByTestId('train-size')).toHaveText('256');
  await baselineRun(page);
  await expect(historyRuns(page)).toHaveCount(1);
  await expect(historyRuns(page).getByTestId('history-ood')).toHaveText('—');

  const ood = page.getByTestId('ood-panel');
  await ood.getByTestId('ood-model-student').check();
  await ood.getByTestId('ood-run').click();
  await expect(ood.getByTestId('ood-table')).toBeVisible({ timeout: 90_000 });
  const kept = historyRuns(page).getByTestId('history-ood');
  await expect(kept).toHaveText(/^ECE 0\.\d{3} · MNIST[^:]*: msp [01]\.\d{3}, entropy [01]\.\d{3}, /);
  const text = await kept.textContent();
  await page.reload();
  await expect(historyRuns(page).getByTestId('history-ood')).toHaveText(text!);
});
