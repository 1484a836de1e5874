import { readFileSync } from 'node:fs';
import { type Download, expect, type Locator, type Page, test } from '@playwright/test';
import { openLab } from './helpers';

const panel = (page: Page, role: 'teacher' | 'student') => page.getByTestId(`panel-${role}`);
const progress = (page: Page, role: 'teacher' | 'student' = 'student') =>
  page.getByTestId(`${role}-progress`);
const stepOf = async (page: Page, role: 'teacher' | 'student' = 'student') =>
  Number(await progress(page, role).getAttribute('data-step'));
const pointsOf = async (chart: Locator) => Number(await chart.getAttribute('data-points'));

/** Opens the lab on wasm and waits until the training panels can start a run. */
async function openTrainingLab(page: Page, query = '?backend=wasm') {
  await openLab(page, query);
  await expect(page.getByTestId('student-train-start')).toBeEnabled();
}

/** Fills the student's form; numbers as the user types them. */
async function setStudent(
  page: Page,
  settings: Partial<Record<'lr' | 'epochs' | 'batch' | 'momentum', string>>,
) {
  for (const [field, value] of Object.entries(settings))
    await page.getByTestId(`student-${field}`).fill(value);
}

test('a student trains on the embedded default with live curves; Pause holds the step, Resume goes on', async ({
  page,
}) => {
  await openTrainingLab(page);
  const student = panel(page, 'student');
  await expect(page.getByTestId('student-preset')).toHaveValue('cnn-small');
  // Parameter count and FLOPs come from the Worker, which built the model.
  await expect(page.getByTestId('student-parameters')).toHaveAttribute('data-value', /^[1-9]\d{3,}$/);
  await expect(page.getByTestId('student-flops')).toHaveAttribute('data-value', /^[1-9]\d{5,}$/);

  const started = Date.now();
  await page.getByTestId('student-train-start').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'running');
  await expect.poll(() => stepOf(page)).toBeGreaterThanOrEqual(5);
  test
    .info()
    .annotations.push({ type: 'first 5 steps, batch 64 (ms)', description: String(Date.now() - started) });

  // One line per named loss term, with points on it.
  const lossChart = student.getByTestId('loss-chart');
  await expect.poll(() => pointsOf(lossChart)).toBeGreaterThan(0);
  for (const term of ['cross-entropy', 'weight decay', 'total']) await expect(lossChart).toContainText(term);
  expect(await lossChart.locator('path.recharts-line-curve').count()).toBe(3);
  await expect(progress(page)).toContainText(/images\/s/);
  await expect(progress(page)).toContainText(/left/);

  await page.getByTestId('student-train-pause').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'paused');
  const pausedAt = await stepOf(page);
  await page.waitForTimeout(2000);
  expect(await stepOf(page)).toBe(pausedAt);

  await page.getByTestId('student-train-resume').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'running');
  await expect.poll(() => stepOf(page)).toBeGreaterThan(pausedAt);
  await page.getByTestId('student-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped');
});

test('the charts are mounted under their hints before a run, and the hints go with the first points', async ({
  page,
}) => {
  await openTrainingLab(page);
  const student = panel(page, 'student');
  // Mounted while the page is idle (src/ui/useIdleMount.ts), so that a run's first step or epoch only updates
  // them: mounting a chart is one long main-thread task (docs/design.md §5).
  for (const id of ['loss-chart', 'accuracy-chart']) {
    const chart = student.getByTestId(id);
    await expect(chart.locator('.chart-empty')).toBeVisible();
    await expect(chart.locator('.recharts-wrapper')).toHaveCount(1);
  }
  await page.getByTestId('student-train-start').click();
  const lossChart = student.getByTestId('loss-chart');
  await expect.poll(() => pointsOf(lossChart)).toBeGreaterThan(0);
  await expect(lossChart.locator('.chart-empty')).toHaveCount(0);
  await expect(student.getByTestId('accuracy-chart').locator('.chart-empty')).toBeVisible();
  await page.getByTestId('student-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped');
});

test('an out-of-range or non-numeric learning rate is refused with the reason, and Start waits', async ({
  page,
}) => {
  await openTrainingLab(page);
  const error = page.getByTestId('student-config-error');
  const start = page.getByTestId('student-train-start');
  await expect(error).toHaveCount(0);

  await setStudent(page, { lr: '50' });
  await expect(error).toHaveText('learning rate must be between 0.000001 and 10');
  await expect(start).toBeDisabled();

  await setStudent(page, { lr: 'fast' });
  await expect(error).toContainText('learning rate must be a number between 0.000001 and 10');
  await setStudent(page, { lr: '0.05', epochs: '0' });
  await expect(error).toHaveText('epochs must be between 1 and 1,000');
  await expect(start).toBeDisabled();

  await setStudent(page, { epochs: '3' });
  await expect(error).toHaveCount(0);
  await expect(start).toBeEnabled();
});

/** The saved checkpoint's files as `<slot>/<file>`, read from IndexedDB in the page (one generation each). */
function savedCheckpointFiles(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('distillery-checkpoints');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
      const request = db.transaction('files').objectStore('files').getAllKeys();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    // Keys are <slot>/<generation>/<file>; two generations of a slot would list a file twice.
    return keys
      .map((key) => String(key).split('/'))
      .map(([slot, , file]) => `${slot}/${file}`)
      .sort();
  });
}

test('a reload after an epoch end offers to resume; Resume restores the curves and trains on', async ({
  page,
}) => {
  test.setTimeout(150_000);
  await openTrainingLab(page);
  // Batch 512: the 10,000 embedded images make a 20-step epoch.
  await setStudent(page, { batch: '512', epochs: '3' });
  const started = Date.now();
  await page.getByTestId('student-train-start').click();
  await expect(progress(page)).toHaveAttribute('data-epoch', '1', { timeout: 100_000 });
  test
    .info()
    .annotations.push({ type: 'first epoch, batch 512 (ms)', description: String(Date.now() - started) });
  const student = panel(page, 'student');
  await expect.poll(() => pointsOf(student.getByTestId('accuracy-chart'))).toBe(1);
  const pointsAtEpochEnd = 20;
  // IndexedDB holds one complete checkpoint: the previous generation is swept once the new one is in place.
  await expect
    .poll(() => savedCheckpointFiles(page))
    .toEqual([
      'student/lab.json',
      'student/method.bin',
      'student/method.json',
      'student/model.json',
      'student/optimizer.bin',
      'student/optimizer.json',
      'student/state.json',
      'student/weights.bin',
    ]);

  await page.reload();
  const offer = student.getByTestId('resume-offer');
  await expect(offer).toBeVisible();
  await expect(offer).toContainText('cnn-small');
  await expect(offer).toContainText('1 of 3 epochs');
  await offer.getByTestId('resume-offer-resume').click();
  await expect(offer).toHaveCount(0);

  // The saved curves are back (as soon as the Worker has read the checkpoint, which waits while it measures a
  // shipped teacher): 20 step points and the first epoch's accuracy.
  await expect
    .poll(() => pointsOf(student.getByTestId('loss-chart')))
    .toBeGreaterThanOrEqual(pointsAtEpochEnd);
  expect(await pointsOf(student.getByTestId('accuracy-chart'))).toBe(1);
  await expect(page.getByTestId('student-batch')).toHaveValue('512');
  await expect(progress(page)).toHaveAttribute('data-epoch', '1');
  await expect(progress(page)).toHaveAttribute('data-status', 'running');
  await expect.poll(() => stepOf(page)).toBeGreaterThan(20);
  await page.getByTestId('student-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped');
});

// The main thread's work while a student trains is React renders of the panels, recharts most of it. On a
// threaded page the training Worker and its loop helper keep both of this machine's cores busy, and the OS
// shares them with the main thread. Measured in thirteen runs of this test (ninth session): no task over 50 ms
// in eleven, one of 52 and one of 70 ms in the others; before the charts were mounted ahead of a run, fed
// unchanged props and the loss chart deferred, 1-2 tasks over 50 ms per run, the longest 54-106 ms
// (`scripts/bench-main-thread.ts`, docs/benchmarks.md). What this guards, with room for a busier machine: no
// task of 100 ms or more; the annotation lists every task over 50 ms.
test('the main thread has no task of 100 ms or more while a student trains', async ({ page }) => {
  await page.addInitScript(() => {
    const tasks: { start: number; duration: number }[] = [];
    (window as unknown as { longTasks: typeof tasks }).longTasks = tasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await openTrainingLab(page);
  await page.getByTestId('student-train-start').click();
  await expect.poll(() => stepOf(page)).toBeGreaterThanOrEqual(1);
  const from = await page.evaluate(() => performance.now());
  await page.waitForTimeout(10_000);
  const steps = await stepOf(page);
  const tasks = await page.evaluate(
    (since) =>
      (window as unknown as { longTasks: { start: number; duration: number }[] }).longTasks.filter(
        (t) => t.start >= since,
      ),
    from,
  );
  const durations = tasks.map((t) => t.duration).sort((a, b) => a - b);
  const longest = durations.at(-1) ?? 0;
  test.info().annotations.push({
    type: 'main-thread tasks over 50 ms while training (ms)',
    description: `${durations.map((d) => d.toFixed(0)).join(', ') || 'none'} in 10 s; ${steps} steps done`,
  });
  expect(steps).toBeGreaterThan(5);
  expect(longest).toBeLessThan(100);
});

test('a non-finite loss pauses the run and the banner names the step', async ({ page }) => {
  await openTrainingLab(page);
  await page.getByTestId('student-schedule').selectOption('constant');
  await setStudent(page, { lr: '10', momentum: '0.99' });
  await page.getByTestId('student-train-start').click();
  await expect(page.getByTestId('error-banner')).toContainText(
    /The student's loss term "\w+" is not finite at epoch 1, step \d+; training is paused and this run has no checkpoint yet/,
    { timeout: 90_000 },
  );
  await expect(progress(page)).toHaveAttribute('data-status', 'paused');
  // Nothing to go back to before the first epoch ends: Resume is off, Stop and a new Start remain.
  await expect(page.getByTestId('student-train-resume')).toBeDisabled();
  await page.getByTestId('student-train-stop').click();
  await expect(page.getByTestId('student-train-start')).toBeEnabled();
});

async function downloadsOf(page: Page, click: () => Promise<void>): Promise<Record<string, Buffer>> {
  const downloads: Download[] = [];
  const done = new Promise<void>((resolve) =>
    page.on('download', (d) => {
      downloads.push(d);
      if (downloads.length === 2) resolve();
    }),
  );
  await click();
  await done;
  const files: Record<string, Buffer> = {};
  for (const d of downloads) files[d.suggestedFilename()] = readFileSync(await d.path());
  return files;
}

const modelFile = (name: string, buffer: Buffer | string) => ({
  name,
  mimeType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
  buffer: Buffer.from(buffer),
});

test('models download in the tfjs format; a teacher imports back, and wrong files are refused by name', async ({
  page,
}) => {
  await openTrainingLab(page);
  const importInput = page.getByTestId('teacher-import').locator('input');
  const banner = page.getByTestId('error-banner');

  // A teacher trained for a few steps, paused, downloaded.
  await page.getByTestId('teacher-preset').selectOption('resnet20');
  await page.getByTestId('teacher-batch').fill('32');
  await page.getByTestId('teacher-train-start').click();
  await expect.poll(() => stepOf(page, 'teacher')).toBeGreaterThanOrEqual(2);
  await page.getByTestId('teacher-train-pause').click();
  await expect(progress(page, 'teacher')).toHaveAttribute('data-status', 'paused');
  const teacher = await downloadsOf(page, () => panel(page, 'teacher').getByTestId('model-export').click());
  expect(Object.keys(teacher).sort()).toEqual(['model.json', 'weights.bin']);
  const topology = JSON.parse(teacher['model.json']!.toString());
  expect(topology.format).toBe('layers-model');
  expect(topology.weightsManifest[0].paths).toEqual(['weights.bin']);
  expect(topology.userDefinedMetadata.distillery).toMatchObject({ preset: 'resnet20', role: 'teacher' });
  await page.getByTestId('teacher-train-stop').click();

  // A student downloaded the same way.
  await page.getByTestId('student-batch').fill('32');
  await page.getByTestId('student-train-start').click();
  await expect.poll(() => stepOf(page)).toBeGreaterThanOrEqual(1);
  await page.getByTestId('student-train-pause').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'paused');
  const student = await downloadsOf(page, () => panel(page, 'student').getByTestId('model-export').click());

  // The teacher's own files come back as the teacher, measured on the test split.
  await importInput.setInputFiles([
    modelFile('model.json', teacher['model.json']!),
    modelFile('weights.bin', teacher['weights.bin']!),
  ]);
  const accuracy = page.getByTestId('teacher-accuracy');
  await expect(page.getByTestId('teacher-source')).toContainText('Imported teacher: resnet20');
  await expect(accuracy).toHaveText(/^\d{1,3}\.\d%$/);

  // A student is not a teacher; a resnet20 labelled vgg-bn has the wrong shapes; a truncated weights file too.
  await importInput.setInputFiles([
    modelFile('model.json', student['model.json']!),
    modelFile('weights.bin', student['weights.bin']!),
  ]);
  await expect(banner).toContainText(
    /model\.json: is a cnn-small model \(student\); a teacher must be one of [\w-]+(, [\w-]+)*/,
  );
  topology.userDefinedMetadata.distillery.preset = 'vgg-bn';
  await importInput.setInputFiles([
    modelFile('relabelled.json', JSON.stringify(topology)),
    modelFile('weights.bin', teacher['weights.bin']!),
  ]);
  await expect(banner).toContainText(
    /relabelled\.json: (has \d+ outputs|has \d+ weight tensors|weight \d+ .* has shape).* the vgg-bn preset/,
  );
  await importInput.setInputFiles([
    modelFile('model.json', teacher['model.json']!),
    modelFile('weights.bin', teacher['weights.bin']!.subarray(0, 1000)),
  ]);
  await expect(banner).toContainText('model.json: its weights file has 1,000 bytes, the manifest needs');
  await importInput.setInputFiles([modelFile('model.json', teacher['model.json']!)]);
  await expect(banner).toContainText(
    "choose two files together, the model's .json and its weights (.bin); got model.json",
  );
  // The imported teacher stays.
  await expect(page.getByTestId('teacher-source')).toContainText('Imported teacher: resnet20');
});

test.describe('the shipped teacher', () => {
  test('is loaded on start and its test accuracy is shown', async ({ page }) => {
    await openTrainingLab(page);
    const accuracy = page.getByTestId('teacher-accuracy');
    await expect(page.getByTestId('teacher-source')).toContainText('Shipped teacher');
    await expect(accuracy).toHaveText(/^\d{1,3}\.\d%$/, { timeout: 90_000 });
    const value = Number(await accuracy.getAttribute('data-accuracy'));
    // 84.41% on the full test set in Node (public/teacher/README.md); the browser must see the same model.
    expect(value).toBeGreaterThanOrEqual(0.75);
    expect(value).toBeLessThanOrEqual(1);
    test.info().annotations.push({
      type: 'shipped teacher test accuracy',
      description: (await accuracy.textContent()) ?? '',
    });
  });

  test('when none is shipped, the Teacher panel says so plainly', async ({ page }) => {
    // A build without public/teacher/: the server answers 404, as a static host would.
    await page.route('**/teacher/model.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
    await openTrainingLab(page);
    await expect(page.getByTestId('teacher-missing')).toContainText('No shipped teacher found');
    await expect(page.getByTestId('teacher-accuracy')).toHaveCount(0);
  });
});

test('on ?backend=webgpu a student runs its first steps', async ({ page }) => {
  // The first steps compile shaders, slowly on the SwiftShader adapter (DESIGN.md section 5).
  test.setTimeout(150_000);
  // Without the shipped teacher: measuring it on the software GPU takes minutes and the student's steps queue
  // behind it (a known limit, in the issue note); this test is about the student's steps on WebGPU.
  await page.route('**/teacher/model.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await openLab(page, '?backend=webgpu');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'webgpu');
  await expect(page.getByTestId('student-train-start')).toBeEnabled();
  await setStudent(page, { batch: '16' });
  const started = Date.now();
  await page.getByTestId('student-train-start').click();
  // Losses are read back every 5 steps on a GPU: a point on the curve means the device finished them.
  await expect
    .poll(() => pointsOf(panel(page, 'student').getByTestId('loss-chart')), { timeout: 110_000 })
    .toBeGreaterThan(0);
  test.info().annotations.push({
    type: 'first loss read-back on webgpu (ms)',
    description: String(Date.now() - started),
  });
  expect(await stepOf(page)).toBeGreaterThanOrEqual(1);
  await page.getByTestId('student-train-stop').click();
  await expect(progress(page)).toHaveAttribute('data-status', 'stopped', { timeout: 60_000 });
});
