import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';

/** cnn-small's weights (README: 34k parameters), 4 bytes each in weights.bin. */
const CNN_SMALL_PARAMETERS = 33_834;
const teacherBytes = statSync(join(import.meta.dirname, '..', 'public', 'teacher', 'weights.bin')).size;

test('report card: refused without a student, then latency and compression for the shipped teacher and a short KD student', async ({
  page,
}) => {
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('teacher-source')).toContainText('Shipped teacher');
  // A small slice of the embedded set keeps the card's accuracy pass short.
  await uploadPrepared(page, 512, 200);
  await expect(page.getByTestId('distill-teacher')).toContainText('the shipped teacher');

  const measure = page.getByTestId('report-measure');
  await measure.click();
  await expect(page.getByTestId('report-error')).toHaveText(
    'there is no distilled student yet; start a distillation',
  );

  await page.getByTestId('distill-train-start').click();
  const progress = page.getByTestId('distill-progress');
  await expect.poll(async () => Number(await progress.getAttribute('data-step'))).toBeGreaterThanOrEqual(3);
  await page.getByTestId('distill-train-stop').click();
  await expect(progress).toHaveAttribute('data-status', 'stopped');

  const started = Date.now();
  await measure.click();
  const card = page.getByTestId('report-card');
  await expect(card).toBeVisible({ timeout: 90_000 });
  test.info().annotations.push({ type: 'report card (ms)', description: String(Date.now() - started) });
  await expect(page.getByTestId('report-error')).toHaveCount(0);
  await expect(page.getByTestId('report-student-name')).toContainText('kd student');

  for (const batch of ['batch1', 'batch64'])
    for (const who of ['teacher', 'student'])
      await expect(page.getByTestId(`report-latency-${batch}-${who}`)).toHaveText(/^\d+\.\d+ ms$/);
  const speedup = await page.getByTestId('report-latency-batch64-ratio').textContent();
  expect(speedup).toMatch(/^\d+\.\dx$/);
  // cnn-small does about a fifth of vgg-fast's arithmetic.
  expect(parseFloat(speedup!)).toBeGreaterThan(1);
  await expect(page.getByTestId('report-compression-ratio')).toHaveText(
    `${(teacherBytes / (4 * CNN_SMALL_PARAMETERS)).toFixed(1)}x`,
  );
  await expect(page.getByTestId('report-retention-teacher')).toHaveText(/^\d{1,3}\.\d%$/);
  await expect(page.getByTestId('report-retention-ratio')).toHaveText(/^\d{1,3}\.\d%$/);
  await expect(page.getByTestId('report-conventions')).toContainText('1 multiply-add = 2 FLOPs');
  await expect(page.getByTestId('report-conventions')).toContainText('wasm');
});
