import { expect, type Locator, type Page, test } from '@playwright/test';
import { openLab, uploadPrepared } from './helpers';

const gallery = (page: Page) => page.getByTestId('anchor-gallery');
const cards = (page: Page) => gallery(page).getByTestId('anchor-card');

/** The RGBA bytes of a canvas, read in the page. */
const pixelsOf = (canvas: Locator) =>
  canvas.evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, 32, 32).data));

/** Opens the lab on wasm and waits for the shipped teacher. */
async function openWithTeacher(page: Page) {
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('distill-teacher')).toHaveAttribute('data-has-teacher', 'true', {
    timeout: 60_000,
  });
}

test('Preview shows the shipped teacher’s 10 anchors with masks, their neighbours, and exports a PNG', async ({
  page,
}) => {
  await openWithTeacher(page);
  const started = Date.now();
  await page.getByTestId('anchors-preview').click();
  await expect(page.getByTestId('anchors-progress')).toBeVisible();
  await expect(cards(page)).toHaveCount(10, { timeout: 60_000 });
  test.info().annotations.push({
    type: 'anchor preview, vgg-fast over 10,000 embedded images (ms)',
    description: String(Date.now() - started),
  });
  const classes = await cards(page).evaluateAll((all) => all.map((c) => c.getAttribute('data-class')));
  expect(new Set(classes).size).toBe(10);
  for (const card of await cards(page).all()) {
    for (const part of ['anchor-image', 'anchor-mask', 'anchor-masked'])
      await expect(card.getByTestId(part)).toBeVisible();
  }
  await expect(page.getByTestId('anchors-source')).toHaveAttribute('data-source', 'preview');
  // Before training a mask is all ones: the masked image is the image.
  const first = cards(page).first();
  expect(await pixelsOf(first.getByTestId('anchor-masked'))).toEqual(
    await pixelsOf(first.getByTestId('anchor-image')),
  );

  await first.getByRole('button').click();
  const neighbours = page.getByTestId('anchor-neighbours');
  await expect(neighbours).toBeVisible();
  await expect(neighbours.getByTestId('neighbour')).toHaveCount(16);

  const download = page.waitForEvent('download');
  await page.getByTestId('anchors-export').click();
  const file = await (await download).createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of file) chunks.push(chunk as Buffer);
  const png = Buffer.concat(chunks);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.length).toBeGreaterThan(1000);
});

test('during an AKD run the masks redraw from the Worker’s snapshots', async ({ page }) => {
  await openWithTeacher(page);
  // A small real upload (200 training images) keeps the anchor selection and the steps short.
  await uploadPrepared(page, 200, 50);
  await expect(page.getByTestId('train-size')).toHaveText('200');
  await page.getByTestId('distill-method').selectOption('akd');
  // The default mask learning rate barely moves the masks in a short run (README, "The anchor gallery").
  await page.getByTestId('distill-param-maskLearningRate').fill('1');
  await page.getByTestId('distill-epochs').fill('4');
  // Long tasks on the main thread while the run trains and the gallery redraws (recorded, not asserted: the
  // curves redraw in the same frames).
  await page.evaluate(() => {
    const seen: number[] = [];
    Object.assign(window, { longTasks: seen });
    new PerformanceObserver((list) => list.getEntries().forEach((e) => seen.push(e.duration))).observe({
      type: 'longtask',
    });
  });
  await page.getByTestId('distill-train-start').click();
  await expect(page.getByTestId('anchors-source')).toHaveAttribute('data-source', 'run', { timeout: 60_000 });
  const mask = cards(page).first().getByTestId('anchor-mask');
  const before = await pixelsOf(mask);
  await expect
    .poll(async () => (await pixelsOf(mask)).some((v, i) => v !== before[i]), { timeout: 60_000 })
    .toBe(true);
  await expect(cards(page).first().getByTestId('anchor-move')).toContainText('mean |m − 1| =');
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
  test.info().annotations.push({
    type: 'main-thread long tasks during the AKD run (count, longest ms)',
    description: `${longTasks.length}, ${Math.round(Math.max(0, ...longTasks))}`,
  });
});
