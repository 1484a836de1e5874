import { expect, type Locator, type Page, test } from '@playwright/test';
import { openLab } from './helpers';

/**
 * A reload mid-epoch loses at most the last 30 s: a distillation saves a checkpoint every 30 s of training
 * (besides epoch ends), a reload offers it back, and Resume continues from that step with its curves.
 */
const progress = (page: Page) => page.getByTestId('distill-progress');
const stepOf = async (page: Page) => Number(await progress(page).getAttribute('data-step'));
const pointsOf = async (chart: Locator) => Number(await chart.getAttribute('data-points'));

test('a reload mid-epoch offers the distillation back; Resume goes on from its last 30 s checkpoint', async ({
  page,
}) => {
  test.setTimeout(180_000);
  // The full set (782 steps of 64 an epoch): on an idle machine the embedded set's epoch ends within 30 s.
  await openLab(page, '?backend=wasm&set=full');
  await expect(page.getByTestId('distill-teacher')).toHaveAttribute('data-has-teacher', 'true', {
    timeout: 60_000,
  });
  await page.getByTestId('distill-method').selectOption('kd');
  await page.getByTestId('distill-train-start').click();
  // The periodic save lands inside the first epoch.
  const saved = page.getByTestId('distill-saved');
  await expect(saved).toBeVisible({ timeout: 90_000 });
  const savedStep = Number(await saved.getAttribute('data-step'));
  const stepsPerEpoch = 782;
  expect(savedStep).toBeGreaterThan(0);
  expect(savedStep).toBeLessThan(stepsPerEpoch);
  test.info().annotations.push({ type: 'first periodic checkpoint at step', description: String(savedStep) });

  await page.reload();
  const offer = page.getByTestId('panel-distillation').getByTestId('resume-offer');
  await expect(offer).toBeVisible();
  await expect(offer).toContainText('KD (Hinton)');
  await expect(offer).toContainText(`0 of 3 epochs and ${savedStep} steps done`);
  await offer.getByTestId('resume-offer-resume').click();
  await expect(offer).toHaveCount(0);
  // Back at the saved step with its curve, then training on from there.
  await expect
    .poll(() => pointsOf(page.getByTestId('panel-distillation').getByTestId('loss-chart')))
    .toBeGreaterThanOrEqual(Math.min(savedStep, 100));
  await expect(progress(page)).toHaveAttribute('data-status', 'running');
  await expect.poll(() => stepOf(page), { timeout: 60_000 }).toBeGreaterThan(savedStep);
  await page.getByTestId('distill-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped');
});
