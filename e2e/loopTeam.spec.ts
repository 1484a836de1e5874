import { expect, test } from '@playwright/test';
import type { StepBenchmark } from '../src/engine/benchmark';
import { openLab } from './helpers';

// On a cross-origin-isolated page (as `npm start` and `npm run preview` serve the lab) the lab's own wasm loops
// are split between the training Worker and a helper Worker per other core, on tfjs's shared memory
// (engine/backend/wasmTeam.ts). Splitting must change only the speed: every output is summed in the same order.
test('with wasm threads, the loop team takes parts of each training step, and the loss is the same to the bit', async ({
  page,
}) => {
  await openLab(page, '?backend=wasm');
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  // One core: no helper, and every loop on the training Worker (the same assertions then hold with 0 parts).
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-loop-threads', String(cores));
  const step = (preset: string, loopTeam: boolean) =>
    page.evaluate(
      ({ preset, loopTeam }) =>
        (
          window as unknown as {
            distilleryBenchmark: (id: string, options: object) => Promise<StepBenchmark>;
          }
        ).distilleryBenchmark(preset, { batchSize: 32, warmupSteps: 1, timedSteps: 2, loopTeam }),
      { preset, loopTeam },
    );
  // cnn-small: im2col and Winograd products, BatchNorm-free; resnet8: BatchNorm, strided and 1x1 convolutions.
  for (const preset of ['cnn-small', 'resnet8']) {
    const split = await step(preset, true);
    const alone = await step(preset, false);
    if (cores >= 2) expect(split.loopTeamParts, preset).toBeGreaterThan(0);
    else expect(split.loopTeamParts, preset).toBe(0);
    expect(alone.loopTeamParts, preset).toBe(0);
    expect(Number.isFinite(split.lastLoss), preset).toBe(true);
    expect(split.lastLoss, preset).toBe(alone.lastLoss);
  }
});
