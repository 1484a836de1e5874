/**
 * Issue 11's thread target: the browser's wasm training step with threads against the same build without
 * them, `npx tsx scripts/bench-threads.ts [PRESET ...] [--rounds N]` (default vgg-fast resnet8 cnn-small, 3
 * rounds). The production build is served twice by Vite's preview server: once as `npm run preview` serves it
 * (cross-origin isolated, so wasm runs with one thread per logical core) and once without the isolation
 * headers (no SharedArrayBuffer, so tfjs loads its single-threaded wasm). The two pages take turns, round by
 * round, each timing `window.distilleryBenchmark(PRESET)` at batch 64 (wall ms per step, 2 warm-up and 6 timed
 * steps; --direct-conv: wasm's direct convolutions instead of Winograd's). Prints each round and the medians; a benchmark, so run it on an otherwise idle machine: a second
 * thread needs a free core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { type PreviewServer, preview } from 'vite';
import type { StepBenchmark } from '../src/engine/benchmark';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' }, 'direct-conv': { type: 'boolean', default: false } },
});
const presets = positionals.length ? positionals : ['vgg-fast', 'resnet8', 'cnn-small'];
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number >= 1`);

execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
// The project's config (isolation headers), and a bare one: the same dist/ without the headers.
const isolated = await preview({ root: ROOT, preview: { port: 4191, strictPort: true } });
const plain = await preview({
  root: ROOT,
  configFile: false,
  build: { outDir: 'dist' },
  preview: { port: 4192, strictPort: true },
});
const executablePath = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
const browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}) });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const urlOf = (server: PreviewServer) => server.resolvedUrls!.local[0]!;

try {
  const pages: Record<'threads' | 'single', Page> = {
    threads: await browser.newPage(),
    single: await browser.newPage(),
  };
  for (const [name, server] of [
    ['threads', isolated],
    ['single', plain],
  ] as const) {
    const page = pages[name];
    await page.goto(`${urlOf(server)}?backend=wasm`);
    await page.waitForSelector('[data-testid=backend-badge][data-status=ready]', { timeout: 60_000 });
    const adapter = await page.textContent('[data-testid=backend-adapter]');
    console.log(
      `${name}: ${adapter} (crossOriginIsolated: ${await page.evaluate(() => crossOriginIsolated)})`,
    );
  }
  for (const preset of presets) {
    const ms: Record<'threads' | 'single', number[]> = { threads: [], single: [] };
    for (let round = 0; round < rounds; round++) {
      // Alternate which page goes first, so that neither always meets a warmer or cooler machine.
      for (const name of round % 2 ? (['single', 'threads'] as const) : (['threads', 'single'] as const)) {
        const result = (await pages[name].evaluate(
          ({ id, winograd }) =>
            (
              window as unknown as {
                distilleryBenchmark: (id: string, options: object) => Promise<StepBenchmark>;
              }
            ).distilleryBenchmark(id, {
              batchSize: 64,
              warmupSteps: 2,
              timedSteps: 6,
              maxSeconds: 120,
              winograd,
            }),
          { id: preset, winograd: !values['direct-conv'] },
        )) as StepBenchmark;
        ms[name].push(result.msPerStep);
        console.log(`${preset} round ${round + 1} ${name}: ${result.msPerStep.toFixed(0)} ms/step`);
      }
    }
    const t = median(ms.threads);
    const s = median(ms.single);
    console.log(
      `${preset}: median ${t.toFixed(0)} ms/step with threads, ${s.toFixed(0)} without: ${(t / s).toFixed(2)}x`,
    );
  }
} finally {
  await browser.close();
  await isolated.close();
  await plain.close();
}
