import { expect, type Locator, type Page, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';
import { teacherFiles } from './teacherFiles';

const panel = (page: Page) => page.getByTestId('panel-distillation');
const progress = (page: Page) => page.getByTestId('distill-progress');
const stepOf = async (page: Page) => Number(await progress(page).getAttribute('data-step'));
const pointsOf = async (chart: Locator) => Number(await chart.getAttribute('data-points'));
const runs = (page: Page) => page.getByTestId('distill-run');
const run = (page: Page, id: number) => page.locator(`[data-testid=distill-run][data-run-id="${id}"]`);

/**
 * Opens the lab on wasm with the Distillation panel ready. `shipped: false` serves no shipped teacher (a 404, as
 * a static host without public/teacher/ answers), so that the teacher is whatever the test provides.
 */
async function openDistillLab(page: Page, { shipped }: { shipped: boolean }) {
  if (!shipped)
    await page.route('**/teacher/model.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('distill-method')).toBeEnabled();
  await expect(page.getByTestId('distill-preset')).toHaveValue('cnn-small');
  if (!shipped) await expect(page.getByTestId('teacher-missing')).toBeVisible();
}

/** Imports a vgg-fast teacher (random weights, made in the test) through the Teacher panel, and waits for it. */
async function importTeacher(page: Page) {
  await page
    .getByTestId('teacher-import')
    .locator('input')
    .setInputFiles(await teacherFiles('vgg-fast'));
  await expect(page.getByTestId('teacher-source')).toContainText('Imported teacher: vgg-fast');
  await expect(page.getByTestId('teacher-accuracy')).toHaveText(/^\d{1,3}\.\d%$/, { timeout: 60_000 });
  await expect(page.getByTestId('distill-teacher')).toHaveAttribute('data-has-teacher', 'true');
}

/** The legend entries of the panel's loss chart. */
const legendOf = (page: Page) =>
  panel(page).getByTestId('loss-chart').locator('.recharts-legend-item-text').allTextContents();

test('KD: Start waits for a teacher; T = 0 is refused with its reason; every term draws; a second run keeps the first', async ({
  page,
}) => {
  await openDistillLab(page, { shipped: false });
  const start = page.getByTestId('distill-train-start');
  await expect(page.getByTestId('distill-no-teacher')).toContainText('No teacher yet');
  await expect(start).toBeDisabled();
  await expect(page.getByTestId('distill-start-blocker')).toHaveText(
    'No teacher to distil from (see above).',
  );
  // The baseline needs no teacher.
  await expect(page.getByTestId('distill-baseline-start')).toBeEnabled();

  await importTeacher(page);
  await expect(page.getByTestId('distill-method')).toHaveValue('kd');
  await expect(start).toBeEnabled();

  // Controls built from the method's declared parameters, with their ranges.
  const temperature = page.getByTestId('distill-param-temperature');
  await expect(temperature).toHaveValue('4');
  await expect(panel(page)).toContainText('Temperature T temperature (0.5 to 20)');
  await temperature.fill('0');
  await expect(page.getByTestId('distill-param-error-temperature')).toHaveText(
    'temperature must be between 0.5 and 20; got 0',
  );
  await expect(start).toBeDisabled();
  await expect(page.getByTestId('distill-start-blocker')).toHaveText('Fix the parameters to start.');
  await temperature.fill('4');
  await expect(page.getByTestId('distill-param-error-temperature')).toHaveCount(0);
  await expect(start).toBeEnabled();

  const started = Date.now();
  await start.click();
  await expect(progress(page)).toHaveAttribute('data-status', 'running');
  await expect.poll(() => stepOf(page)).toBeGreaterThanOrEqual(4);
  test.info().annotations.push({
    type: 'KD: first 4 steps, batch 64 (ms)',
    description: String(Date.now() - started),
  });
  // Every named term of the method, with points on each line.
  const lossChart = panel(page).getByTestId('loss-chart');
  await expect(lossChart).toHaveAttribute('data-terms', 'ce soft weightDecay total');
  expect(await pointsOf(lossChart)).toBeGreaterThan(0);
  expect(await legendOf(page)).toEqual(['cross-entropy', 'KD soft', 'weight decay', 'total']);
  expect(await lossChart.locator('path.recharts-line-curve').count()).toBe(4);
  const ms = page.getByTestId('distill-ms-per-step');
  await expect(ms).toHaveText(/^\d+ ms\/step$/);
  test.info().annotations.push({
    type: 'KD ms/step (cnn-small, vgg-fast teacher)',
    description: (await ms.textContent()) ?? '',
  });
  // One run at a time: the Student panel waits.
  await expect(page.getByTestId('student-train-start')).toBeDisabled();
  await expect(page.getByTestId('student-start-blocker')).toHaveText(
    'A distillation is running; pause it to train the student.',
  );

  await page.getByTestId('distill-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped');
  await expect(runs(page)).toHaveCount(1);
  await expect(run(page, 1)).toHaveAttribute('data-status', 'stopped');

  // Other parameters, a second run: the first stays in the list with its own settings and timing.
  await page.getByTestId('distill-param-alpha').fill('0.5');
  await start.click();
  await expect.poll(() => stepOf(page)).toBeGreaterThanOrEqual(2);
  await expect(runs(page)).toHaveCount(2);
  await expect(run(page, 1)).toContainText('temperature 4, alpha 0.9');
  await expect(run(page, 2)).toContainText('temperature 4, alpha 0.5*');
  await expect(run(page, 1).getByTestId('distill-run-ms')).toHaveText(/^\d+$/);
  await page.getByTestId('distill-train-stop').click();
  await expect(run(page, 2)).toHaveAttribute('data-status', 'stopped');
  // The first run's curves are still there to look at.
  await run(page, 1).getByTestId('distill-run-show').click();
  await expect(panel(page)).toContainText('Run #1 (kd): training loss per term');
  expect(await pointsOf(lossChart)).toBeGreaterThanOrEqual(4);
});

test('AKD: the anchors are chosen with the teacher, then the curves show L1, L2 and L3', async ({ page }) => {
  await openDistillLab(page, { shipped: false });
  await importTeacher(page);
  await page.getByTestId('distill-method').selectOption('akd');
  for (const name of [
    'anchorsPerClass',
    'lambda1',
    'lambda2',
    'weight',
    'maskLearningRate',
    'maskWeightDecay',
  ])
    await expect(page.getByTestId(`distill-param-${name}`)).toBeVisible();
  await page.getByTestId('distill-param-anchorsPerClass').fill('1.5');
  await expect(page.getByTestId('distill-param-error-anchorsPerClass')).toHaveText(
    'anchorsPerClass must be a whole number between 1 and 10; got 1.5',
  );
  await page.getByTestId('distill-param-anchorsPerClass').fill('1');

  const started = Date.now();
  await page.getByTestId('distill-train-start').click();
  await expect(progress(page)).toContainText('choosing the anchors with the teacher');
  // Anchor selection: the teacher's forward pass over the 10,000 embedded training images.
  const setup = page.getByTestId('distill-setup');
  await expect(setup).toBeVisible({ timeout: 90_000 });
  test.info().annotations.push({
    type: 'AKD anchor selection, vgg-fast over 10,000 images (s, measured in the Worker)',
    description: Number(await setup.getAttribute('data-seconds')).toFixed(1),
  });
  await expect.poll(() => stepOf(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
  test
    .info()
    .annotations.push({ type: 'AKD: Start to 3 steps done (ms)', description: String(Date.now() - started) });
  const lossChart = panel(page).getByTestId('loss-chart');
  await expect(lossChart).toHaveAttribute('data-terms', 'ce l1 l2 l3 akd weightDecay total');
  expect(await pointsOf(lossChart)).toBeGreaterThan(0);
  expect(await legendOf(page)).toEqual(['cross-entropy', 'L1', 'L2', 'L3', 'L_AKD', 'weight decay', 'total']);
  const ms = page.getByTestId('distill-ms-per-step');
  await expect(ms).toHaveText(/^\d+ ms\/step$/);
  test.info().annotations.push({
    type: 'AKD ms/step (cnn-small, 10 anchors)',
    description: (await ms.textContent()) ?? '',
  });

  await page.getByTestId('distill-train-pause').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'paused');
  const pausedAt = await stepOf(page);
  await page.getByTestId('distill-train-resume').click();
  await expect.poll(() => stepOf(page)).toBeGreaterThan(pausedAt);
  await page.getByTestId('distill-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped');
  await expect(run(page, 1)).toHaveAttribute('data-method', 'akd');
});

test('the baseline runs with one click; its test accuracy per epoch sits beside the distilled run’s', async ({
  page,
}) => {
  await openDistillLab(page, { shipped: false });
  // A small upload, so that epochs end in seconds: 512 training images (8 steps of 64), 200 test images.
  await uploadPrepared(page, 512, 200);
  await expect(page.getByTestId('train-size')).toHaveText('512');
  await importTeacher(page);
  await page.getByTestId('distill-epochs').fill('2');
  const note = page.getByTestId('distill-baseline-note');
  await expect(note).toContainText('These settings have none yet.');

  await page.getByTestId('distill-baseline-start').click();
  await expect(run(page, 1)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(run(page, 1)).toHaveAttribute('data-method', 'ce');
  await expect(note).toContainText('These settings have one: run #1.');
  await expect(panel(page).getByTestId('loss-chart')).toHaveAttribute('data-terms', 'ce weightDecay total');

  await page.getByTestId('distill-train-start').click();
  await expect(run(page, 2)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  // A finished run reads as complete, not as the next epoch at step 0.
  await expect(progress(page)).toContainText('epoch 2 of 2 · step 8 of 8');
  const overlay = page.getByTestId('distill-accuracy-chart');
  await expect(overlay).toHaveAttribute('data-series', '2');
  await expect(overlay).toHaveAttribute('data-points', '2');
  expect(await overlay.locator('.recharts-legend-item-text').allTextContents()).toEqual([
    '#1 ce (baseline)',
    '#2 kd',
  ]);
  for (const id of [1, 2])
    await expect(run(page, id).getByTestId('distill-run-accuracy')).toHaveText(/^\d{1,3}\.\d%$/);
  await expect(run(page, 2)).toContainText(/[+-]\d+\.\d pts \(#1\)/);

  // A different label fraction has no baseline yet.
  await page.getByTestId('distill-labelled').selectOption('0.2');
  await expect(note).toContainText('These settings have none yet.');
});

test('the shipped teacher: KD distils from it (needs public/teacher/model.json)', async ({ page }) => {
  await openDistillLab(page, { shipped: true });
  await expect(page.getByTestId('teacher-source')).toContainText('Shipped teacher');
  await expect(page.getByTestId('teacher-accuracy')).toHaveText(/^\d{1,3}\.\d%$/, { timeout: 90_000 });
  await expect(page.getByTestId('distill-teacher')).toContainText('the shipped teacher');
  await page.getByTestId('distill-train-start').click();
  await expect.poll(() => stepOf(page)).toBeGreaterThanOrEqual(3);
  await expect(panel(page).getByTestId('loss-chart')).toHaveAttribute(
    'data-terms',
    'ce soft weightDecay total',
  );
  // With wasm threads (this page is cross-origin isolated) on 2 to 4 cores the student's pool gives a thread to
  // the VGG-Fast teacher's Worker (engine/distill/teacherCore.ts); with more cores the teacher runs in line.
  await expect(page.getByTestId('distill-setup')).toBeVisible();
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  if (cores >= 2 && cores <= 4)
    await expect(page.getByTestId('distill-teacher-ahead')).toHaveText('· teacher on its own thread');
  else await expect(page.getByTestId('distill-teacher-ahead')).toHaveCount(0);
  await page.getByTestId('distill-train-stop').click();
  await expect(run(page, 1)).toHaveAttribute('data-status', 'stopped');
});
