import { expect, test } from '@playwright/test';
import { openLab } from './helpers';

// wasm threads need a cross-origin-isolated page (the preview server sends COOP/COEP, as `npm start` does);
// the engine then gives wasm every logical core (initBackend.ts, wasmThreads).
test('?backend=wasm: the badge names the thread count, one per logical core', async ({ page }) => {
  await openLab(page, '?backend=wasm');
  const { isolated, cores } = await page.evaluate(() => ({
    isolated: globalThis.crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
  }));
  expect(isolated).toBe(true);
  await expect(page.getByTestId('backend-adapter')).toHaveText(
    `WebAssembly SIMD, ${cores} thread${cores === 1 ? '' : 's'}`,
  );
  // The training kernels' own wasm loops run on tfjs's shared (threaded) memory too, not the JS fallback.
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-training-loops', 'wasm');
  // ... split over every thread too: the training Worker and a loop helper per other core (wasmTeam.ts).
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-loop-threads', String(cores));
});
