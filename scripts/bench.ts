/**
 * `npm run bench`: ms per training step and images per second at batch 64, for every model preset on every
 * backend available: Node (wasm, cpu) and the browser through Playwright (webgpu, webgl, wasm). Writes
 * docs/benchmarks.json and docs/benchmarks.md with the machine it ran on. A benchmark, not a test: numbers
 * depend on the machine and on what else it is doing, which is why the machine is recorded with them.
 *
 * Also a per-method table: ms per student step of every distillation method relative to `ce` (wasm in Node,
 * batch 64, students cnn-small and resnet8, teacher vgg-fast with seeded random weights, AKD with 10 anchors).
 *
 *   npm run bench                     everything
 *   npm run bench -- --only node      Node backends and the methods table (also: --only browser)
 *   npm run bench -- --only methods   the methods table alone; the step table already in docs/ is kept
 *   npm run bench -- --only pytorch   the lab's wasm step against PyTorch's (benchPytorch.ts); also part of
 *                                     a full or `--only node` run; `--pytorch PATH` names the yardstick script
 *
 * Whatever follows KEEP_MARKER in docs/benchmarks.md (hand-written notes, e.g. per-kernel before/after
 * measurements that a later run cannot repeat) is carried over to the rewritten file.
 */
import { nodeTeacherHost } from '../src/cli/teacherThread';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { format, resolveConfig } from 'prettier';
import type { BackendName } from '../src/engine/backend/chooseBackend';
import { initBackend } from '../src/engine/backend/initBackend';
import {
  benchmarkDistillStep,
  benchmarkTrainingStep,
  type DistillStepBenchmark,
  type StepBenchmark,
} from '../src/engine/benchmark';
import { DISTILL_METHODS } from '../src/engine/distill/registry';
import { MODEL_PRESETS } from '../src/engine/models/presets';
import { benchAgainstPytorch, pytorchMissing, type RatioTable, ratioMarkdown } from './benchPytorch';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 64;
const PORT = 4174;
const KEEP_MARKER = '<!-- Everything below this line is kept by npm run bench. -->';

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

/** The methods table's setting: what every row shares. */
const METHODS_SETUP = {
  backend: 'wasm',
  batchSize: BATCH,
  teacher: 'vgg-fast',
  students: ['cnn-small', 'resnet8'],
};

interface MethodRow extends DistillStepBenchmark {
  /** ms per step divided by ce's for the same student. */
  readonly relativeToCe: number;
  /** Wall ms per step with the teacher a batch ahead on a worker thread, as the CLI runs it; null: none here. */
  readonly wallAheadMs: number | null;
  /** That over ce's wall ms per step. */
  readonly wallAheadRelativeToCe: number | null;
}

interface MethodsTable {
  readonly machine: Record<string, string>;
  readonly rows: MethodRow[];
}

/** Every method's student step on wasm in Node, per student, relative to ce (first in the registry). */
const METHODS_TIMED_STEPS = 9;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function benchMethods(machine: Record<string, string>): Promise<MethodsTable> {
  const report = await initBackend('wasm');
  const rows: MethodRow[] = [];
  for (const student of METHODS_SETUP.students) {
    let ce: number | null = null;
    let ceWall: number | null = null;
    // One discarded run first: the process's own warm-up (V8 compiling on its background threads, which CPU
    // time counts) would otherwise fall on the first method, ce, and understate every ratio.
    await benchmarkDistillStep('ce', { student, teacherPreset: METHODS_SETUP.teacher, batchSize: BATCH });
    for (const method of DISTILL_METHODS) {
      const result = await benchmarkDistillStep(method.id, {
        student,
        teacherPreset: METHODS_SETUP.teacher,
        batchSize: BATCH,
        warmupSteps: 2,
        timedSteps: METHODS_TIMED_STEPS,
        maxSeconds: 60,
        // CPU time of this process: other work on the cores does not tilt one method against another.
        clock: cpuMs,
      });
      ce ??= result.msPerStep;
      // Wall time with the teacher on its own thread (engine/distill/teacherAhead.ts): what a CLI run takes.
      // CPU time would count both threads, so this column is wall ms, ce's included for its ratio.
      const teacherHost = nodeTeacherHost();
      const wall =
        teacherHost || !method.needsTeacher
          ? await benchmarkDistillStep(method.id, {
              student,
              teacherPreset: METHODS_SETUP.teacher,
              batchSize: BATCH,
              warmupSteps: 4,
              timedSteps: METHODS_TIMED_STEPS,
              maxSeconds: 60,
              ...(teacherHost ? { teacherHost } : {}),
            })
          : null;
      if (wall && method.needsTeacher && !wall.teacherAhead)
        throw new Error(`methods ${student} ${method.id}: the teacher did not run ahead on its thread`);
      ceWall ??= wall?.msPerStep ?? null;
      const wallAheadMs = wall?.msPerStep ?? null;
      const wallAheadRelativeToCe = wallAheadMs !== null && ceWall !== null ? wallAheadMs / ceWall : null;
      rows.push({ ...result, relativeToCe: result.msPerStep / ce, wallAheadMs, wallAheadRelativeToCe });
      console.log(
        `methods ${student} ${method.id}: ${result.msPerStep.toFixed(0)} ms/step (${(result.msPerStep / ce).toFixed(2)}x ce)` +
          (wallAheadMs !== null ? `; wall, teacher ahead: ${wallAheadMs.toFixed(0)} ms/step` : ''),
      );
    }
  }
  return { machine: { ...machine, adapter: report.adapter }, rows };
}

function methodsMarkdown({ machine, rows }: MethodsTable): string[] {
  return [
    '## Distillation methods: ms per student step',
    '',
    `Written by \`npm run bench\` (\`--only methods\`) on ${machine.date}. wasm in Node (${machine.adapter}), batch ${BATCH},`,
    `teacher ${METHODS_SETUP.teacher} (seeded random weights: timing does not depend on them), the lab's step: the real`,
    'Trainer with the method loss and extra parameters, augmentation, SGD with momentum, terms read back every step;',
    `2 warm-up steps excluded (and one discarded ce run per student), ${METHODS_TIMED_STEPS} timed, in CPU ms of the process (other work on the cores does not count). AKD: 1 anchor per class (10 anchors), the anchors passing through the student`,
    'every step. Relative: ms/step over ce (the student alone) for the same student. The last two columns: wall ms per',
    "step with the teacher's pass a batch ahead on a worker thread, as `npm run cli -- distill` runs it on 2 or more",
    "cores (src/engine/distill/teacherAhead.ts; 4 warm-up steps, the thread starting), and that over ce's wall ms/step.",
    '',
    ...Object.entries(machine)
      .filter(([k]) => k !== 'adapter')
      .map(([k, v]) => `- ${k}: ${v}`),
    '',
    '| student | method | ms/step | x ce | anchors | set-up s | wall ms/step, teacher ahead | x ce (wall) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.student} | ${r.method} | ${r.msPerStep.toFixed(0)} | ${r.relativeToCe.toFixed(2)} | ${r.anchors || ''} | ${r.setupSeconds.toFixed(1)} | ${r.wallAheadMs?.toFixed(0) ?? '-'} | ${r.wallAheadRelativeToCe?.toFixed(2) ?? '-'} |`,
    ),
  ];
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

function markdown(
  rows: Row[],
  skipped: Skipped[],
  machine: Record<string, string>,
  methods: MethodsTable | null,
  pytorch: { table: RatioTable | null; why: string | null },
  kept: string,
): string {
  const lines = ['# Training-step benchmark', ''];
  if (!rows.length) {
    lines.push(
      'The step table has not been measured here yet: `npm run bench` (or `--only node`, `--only browser`).',
    );
  } else {
    lines.push(
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
    );
  }
  if (
    rows.some((r) => r.host === 'browser' && r.backend !== 'wasm' && /swiftshader|software/i.test(r.adapter))
  )
    lines.push(
      '',
      'The webgpu and webgl rows are software-adapter numbers (SwiftShader, on the CPU): this machine has no GPU,',
      'so they say nothing about GPU speed; see "On a real GPU" in issue 11 for how to record a real adapter.',
    );
  if (skipped.length) {
    lines.push(
      '',
      'Not measured:',
      '',
      ...skipped.map((s) => `- ${s.host} ${s.backend} ${s.model}: ${s.why}`),
    );
  }
  if (methods) lines.push('', ...methodsMarkdown(methods));
  lines.push('', ...ratioMarkdown(pytorch.table, pytorch.why));
  if (kept.trim()) lines.push('', KEEP_MARKER, '', kept.trim());
  return `${lines.join('\n')}\n`;
}

interface BenchFile {
  machine: Record<string, string>;
  rows: Row[];
  skipped: Skipped[];
  methods?: MethodsTable;
  pytorch?: RatioTable;
}

/** What an earlier run wrote, so that a partial run (--only methods) keeps the other tables. */
async function previousResults(path: string): Promise<BenchFile | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BenchFile;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, note: { type: 'string' }, pytorch: { type: 'string' } },
  });
  const yardstick = values.pytorch ?? join(ROOT, '..', 'shared', 'yardsticks', 'pytorch_step.py');
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
  const only = values.only;
  if (only !== undefined && !['node', 'browser', 'methods', 'pytorch'].includes(only))
    throw new Error(`--only must be one of node, browser, methods, pytorch; got ${only}`);
  const jsonPath = join(ROOT, 'docs', 'benchmarks.json');
  const previous = await previousResults(jsonPath);
  let methods: MethodsTable | null = previous?.methods ?? null;
  if (only === undefined || only === 'node' || only === 'methods') methods = await benchMethods(machine);
  let pytorch = previous?.pytorch ?? null;
  const pytorchWhy = pytorchMissing(yardstick);
  if ((only === undefined || only === 'node' || only === 'pytorch') && !pytorchWhy)
    pytorch = await benchAgainstPytorch(yardstick);
  let result: BenchFile;
  if (only === 'methods' || only === 'pytorch') {
    result = {
      machine: previous?.machine ?? machine,
      rows: previous?.rows ?? [],
      skipped: previous?.skipped ?? [],
    };
  } else {
    if (only !== 'browser') await benchNode(rows, skipped);
    if (only !== 'node') machine.browser = `Chromium ${await benchBrowser(rows, skipped)}`;
    result = { machine, rows, skipped };
  }
  if (methods) result.methods = methods;
  if (pytorch) result.pytorch = pytorch;
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  const mdPath = join(ROOT, 'docs', 'benchmarks.md');
  const oldText = await readFile(mdPath, 'utf8').catch(() => '');
  const kept = oldText.includes(KEEP_MARKER)
    ? oldText.slice(oldText.indexOf(KEEP_MARKER) + KEEP_MARKER.length)
    : '';
  const pytorchNote = { table: pytorch, why: pytorch ? null : pytorchWhy };
  // Formatted as `npm run lint` checks it.
  const text = await format(
    markdown(result.rows, result.skipped, result.machine, methods, pytorchNote, kept),
    {
      ...(await resolveConfig(mdPath)),
      parser: 'markdown',
    },
  );
  await writeFile(mdPath, text);
  console.log(text);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
