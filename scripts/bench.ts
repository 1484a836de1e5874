/**
 * `npm run bench`: ms per training step and images per second at batch 64, for every model preset on every
 * backend available: Node (wasm, cpu) and the browser through Playwright (webgpu, webgl, wasm). Writes
 * docs/benchmarks.json and docs/benchmarks.md with the machine it ran on. A benchmark, not a test: numbers
 * depend on the machine and on what else it is doing, which is why the machine is recorded with them.
 *
 *   npm run bench                  everything
 *   npm run bench -- --only node   Node backends only (also: --only browser)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import type { BackendName } from '../src/engine/backend/chooseBackend';
import { initBackend } from '../src/engine/backend/initBackend';
import { benchmarkTrainingStep, type StepBenchmark } from '../src/engine/benchmark';
import { MODEL_PRESETS } from '../src/engine/models/presets';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 64;
const PORT = 4174;

interface Row extends StepBenchmark {
  readonly host: 'node' | 'browser';
  readonly adapter: string;
}

interface Skipped {
  readonly host: 'node' | 'browser';
  readonly backend: string;
  readonly model: string;
  readonly why: string;
}

/** Fewer steps where a step takes tens of seconds (cpu, software GPU adapters). */
const stepsFor = (backend: string) =>
  backend === 'wasm'
    ? { warmupSteps: 2, timedSteps: 5, maxSeconds: 60 }
    : { warmupSteps: 1, timedSteps: 2, maxSeconds: 90 };

async function benchNode(rows: Row[], skipped: Skipped[]): Promise<void> {
  for (const backend of ['wasm', 'cpu'] as const) {
    const report = await initBackend(backend);
    for (const preset of MODEL_PRESETS) {
      if (backend === 'cpu' && preset.role === 'teacher') {
        skipped.push({
          host: 'node',
          backend,
          model: preset.id,
          why: 'cpu backend: minutes per teacher step',
        });
        continue;
      }
      const result = await benchmarkTrainingStep(preset.id, { batchSize: BATCH, ...stepsFor(backend) });
      rows.push({ host: 'node', adapter: report.adapter, ...result });
      console.log(`node ${backend} ${preset.id}: ${result.msPerStep.toFixed(0)} ms/step`);
    }
  }
}

async function waitForServer(url: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the preview server did not answer at ${url}`);
}

async function benchBrowser(rows: Row[], skipped: Skipped[]): Promise<string> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const executablePath = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
  const browser = await chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: [
      '--enable-unsafe-webgpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    await waitForServer(`http://localhost:${PORT}/`, 60);
    for (const backend of ['webgpu', 'webgl', 'wasm'] as BackendName[]) {
      const page = await browser.newPage();
      await page.goto(`http://localhost:${PORT}/?backend=${backend}`);
      await page.waitForSelector('[data-testid=backend-badge][data-status=ready]', { timeout: 60_000 });
      const active = await page.getAttribute('[data-testid=backend-badge]', 'data-backend');
      const adapter = (await page.textContent('[data-testid=backend-adapter]')) ?? '';
      if (active !== backend) {
        for (const preset of MODEL_PRESETS) {
          skipped.push({
            host: 'browser',
            backend,
            model: preset.id,
            why: `unavailable (fell back to ${active})`,
          });
        }
        await page.close();
        continue;
      }
      for (const preset of MODEL_PRESETS) {
        const software = adapter && backend !== 'wasm' && /swiftshader|software/i.test(adapter);
        if (software && preset.role === 'teacher') {
          skipped.push({
            host: 'browser',
            backend,
            model: preset.id,
            why: 'software adapter: a minute or more per teacher step',
          });
          continue;
        }
        const result = (await page.evaluate(
          ([id, batchSize, steps]) =>
            (
              window as unknown as {
                distilleryBenchmark: (id: string, options: object) => Promise<StepBenchmark>;
              }
            ).distilleryBenchmark(id, { batchSize, ...steps }),
          [preset.id, BATCH, stepsFor(backend)] as const,
        )) as StepBenchmark;
        rows.push({ host: 'browser', adapter, ...result });
        console.log(`browser ${backend} ${preset.id}: ${result.msPerStep.toFixed(0)} ms/step`);
      }
      await page.close();
    }
    return browser.version();
  } finally {
    await browser.close();
    server.kill();
  }
}

function markdown(rows: Row[], skipped: Skipped[], machine: Record<string, string>): string {
  const lines = [
    '# Training-step benchmark',
    '',
    `Written by \`npm run bench\` on ${machine.date}. Batch ${BATCH}, 32x32x3 inputs, SGD with momentum, cross-entropy +`,
    'weight decay; warm-up steps excluded; each timed step ends with a read of its loss.',
    '',
    ...Object.entries(machine).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '| host | backend | model | params | MFLOPs/img | ms/step | images/s | adapter |',
    '|---|---|---|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.host} | ${r.backend} | ${r.model} | ${r.parameters.toLocaleString('en-US')} | ${(r.flopsPerImage / 1e6).toFixed(1)} | ${r.msPerStep.toFixed(0)} | ${r.imagesPerSecond.toFixed(0)} | ${r.adapter} |`,
    ),
  ];
  if (skipped.length) {
    lines.push(
      '',
      'Not measured:',
      '',
      ...skipped.map((s) => `- ${s.host} ${s.backend} ${s.model}: ${s.why}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, note: { type: 'string' } } });
  const rows: Row[] = [];
  const skipped: Skipped[] = [];
  const machine: Record<string, string> = {
    date: new Date().toISOString().slice(0, 10),
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
  if (values.note) machine.note = values.note;
  if (values.only !== 'browser') await benchNode(rows, skipped);
  if (values.only !== 'node') machine.browser = `Chromium ${await benchBrowser(rows, skipped)}`;
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  await writeFile(
    join(ROOT, 'docs', 'benchmarks.json'),
    `${JSON.stringify({ machine, rows, skipped }, null, 2)}\n`,
  );
  await writeFile(join(ROOT, 'docs', 'benchmarks.md'), markdown(rows, skipped, machine));
  console.log(markdown(rows, skipped, machine));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
