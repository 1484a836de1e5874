import { expect, type Page, test } from '@playwright/test';
import { openLab } from './helpers';

/** The explorer with the shipped teacher's logits on the embedded test split, ready. */
async function openExplorer(page: Page, query = '') {
  await openLab(page, `?backend=wasm${query}`);
  const explorer = page.getByTestId('temperature-explorer');
  await explorer.scrollIntoViewIfNeeded();
  await expect(explorer).toHaveAttribute('data-status', 'ready', { timeout: 90_000 });
  return explorer;
}

const numberOf = async (page: Page, testId: string, attribute: string) =>
  Number(await page.getByTestId(testId).first().getAttribute(attribute));

test("temperature explorer: the teacher's entropy rises with T; bars, heatmap and a move under 50 ms", async ({
  page,
}) => {
  const explorer = await openExplorer(page);
  const slider = explorer.getByTestId('temperature-slider');
  // The slider's value is log2 T.
  await slider.fill('0');
  await expect(slider).toHaveAttribute('data-temperature', '1');
  const entropyAt1 = await numberOf(page, 'teacher-entropy', 'data-value');
  await slider.fill(String(Math.log2(10)));
  await expect.poll(() => numberOf(page, 'temperature-slider', 'data-temperature')).toBeCloseTo(10, 6);
  const entropyAt10 = await numberOf(page, 'teacher-entropy', 'data-value');
  expect(entropyAt10).toBeGreaterThan(entropyAt1);
  expect(entropyAt10).toBeLessThan(Math.log(10));

  // Ten bars, most probable first, summing to 1; the heatmap's rows are distributions too.
  const bars = explorer.getByTestId('softmax-bar');
  await expect(bars).toHaveCount(10);
  const probabilities = (
    await bars.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-teacher-p')))
  ).map(Number);
  expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
  expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  const cells = (
    await explorer
      .getByTestId('similarity-cell')
      .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')))
  ).map(Number);
  expect(cells).toHaveLength(100);
  for (let row = 0; row < 10; row++)
    expect(cells.slice(row * 10, row * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);

  // A slider move, timed in the page: the input event to the committed, laid-out page (no model runs).
  const times = await page.evaluate(async () => {
    const input = document.querySelector<HTMLInputElement>('[data-testid=temperature-slider]')!;
    const entropy = document.querySelector('[data-testid=teacher-entropy]')!;
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    const out: number[] = [];
    for (const value of [1, 2.5, -0.5, 3.5, 0.25, 2, 4, -1, 1.5]) {
      const changed = new Promise<void>((resolve) => {
        const observer = new MutationObserver(() => {
          observer.disconnect();
          resolve();
        });
        observer.observe(entropy, { characterData: true, childList: true, subtree: true });
      });
      const started = performance.now();
      setValue.call(input, String(value));
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await changed;
      void document.body.offsetHeight;
      out.push(performance.now() - started);
    }
    return out;
  });
  console.log(`slider move, ms: ${times.map((t) => t.toFixed(1)).join(', ')}`);
  // The budget is 50 ms a move; on a two-core machine shared with other work one move can stall for reasons
  // not its own, so the typical (median) move must meet it and none may take twice as long.
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  expect(median).toBeLessThan(50);
  expect(Math.max(...times)).toBeLessThan(100);
});

test("lecture mode from ?present=1 works from the keyboard: arrows change T and the image, Space starts and pauses KD, Escape leaves; a stopped run's student stays on offer", async ({
  page,
}) => {
  await openLab(page, '?backend=wasm&present=1');
  const lecture = page.getByTestId('lecture');
  await expect(lecture.getByTestId('softmax-bars')).toBeVisible({ timeout: 90_000 });
  const temperature = () => numberOf(page, 'temperature-slider', 'data-temperature');
  const entropy = () => numberOf(page, 'teacher-entropy', 'data-value');
  const selected = () => lecture.getByTestId('explorer-main').getAttribute('data-selected');
  const startT = await temperature();
  const startEntropy = await entropy();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await expect.poll(temperature).toBeCloseTo(startT * 2, 6);
  expect(await entropy()).toBeGreaterThan(startEntropy);
  await page.keyboard.press('ArrowLeft');
  await expect.poll(temperature).toBeCloseTo(startT * 2 ** 0.75, 6);

  const first = await selected();
  await page.keyboard.press('ArrowDown');
  await expect.poll(selected).not.toBe(first);
  const label = await lecture.getByTestId('explorer-label').textContent();
  expect(label).toBeTruthy();
  await page.keyboard.press('ArrowUp');
  await expect.poll(selected).toBe(first);

  // Space starts a KD run (the Distillation panel's settings) and pauses it.
  const kdStatus = lecture.getByTestId('lecture-kd-status');
  await expect(kdStatus).toContainText('KD: not run yet');
  await page.keyboard.press(' ');
  await expect(kdStatus).toContainText(/KD #1: running/, { timeout: 60_000 });
  await page.keyboard.press(' ');
  await expect(kdStatus).toContainText(/KD #1: paused/, { timeout: 60_000 });

  await page.keyboard.press('Escape');
  await expect(lecture).toBeHidden();
  // A finished (here: stopped) run's student stays on offer in the explorer after the engine lets it go.
  await page.getByTestId('distill-train-stop').click();
  const studentChoice = page.getByTestId('explorer-student-source');
  await expect(studentChoice.locator('option[value="run:1"]')).toHaveText(/^run #1 kd/, { timeout: 30_000 });
  await studentChoice.selectOption('run:1');
  await expect(page.getByTestId('kd-soft-term')).not.toHaveAttribute('data-value', '');
  await page.getByTestId('present-mode').click();
  await expect(page.getByTestId('lecture')).toBeVisible();
});

test('temperature explorer without a teacher says so', async ({ page }) => {
  await page.route('**/teacher/model.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await openLab(page, '?backend=wasm');
  await expect(page.getByTestId('teacher-missing')).toBeVisible();
  const explorer = page.getByTestId('temperature-explorer');
  await explorer.scrollIntoViewIfNeeded();
  await expect(explorer.getByTestId('explorer-status')).toHaveText(
    'No teacher yet: load the shipped one, import one, or train one in the Teacher panel.',
  );
  await expect(explorer.getByTestId('softmax-bars')).toHaveCount(0);
});
