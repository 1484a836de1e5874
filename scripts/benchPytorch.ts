/**
 * The CPU yardstick of `npm run bench`: the lab's wasm training step beside PyTorch's CPU step for the same
 * layer shapes (issue 11 asks for within 3x of PyTorch on one thread). PyTorch is not a dependency of the lab:
 * the yardstick script (shared/yardsticks/pytorch_step.py) runs under Debian's python3-torch when both are
 * there, and the table says so when they are not. Each preset is measured PyTorch (1 thread), lab, PyTorch
 * (2 threads) back to back. Both single-threaded steps are timed in CPU time of their own process (the
 * yardstick runs with its clock swapped for time.process_time; the lab's is the CPU time of 8 timed steps
 * less that of 2, twice, after one discarded run: that cancels set-up and warm-up), so that other work sharing the cores does not tilt the
 * ratio; the 2-thread PyTorch step is wall time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { initBackend } from '../src/engine/backend/initBackend';
import { benchmarkTrainingStep } from '../src/engine/benchmark';

const PYTHON = '/usr/bin/python3';
export const RATIO_MODELS = ['cnn-small', 'resnet8', 'vgg-fast'] as const;

export interface RatioRow {
  readonly model: string;
  /** CPU ms per step. */
  readonly pytorch1: number;
  /** Wall ms per step. */
  readonly pytorch2: number;
  /** CPU ms per step. */
  readonly lab: number;
  /** Wall ms per step of the lab's own benchmark, for reference. */
  readonly labWall: number;
  /** lab over PyTorch on one thread, CPU time. */
  readonly ratio: number;
}

export interface RatioTable {
  readonly date: string;
  readonly torch: string;
  readonly adapter: string;
  readonly rows: RatioRow[];
}

/**
 * PyTorch's ms per step from the yardstick's output line (`name<TAB>threads<TAB>ms`); with `cpu`, the
 * yardstick's perf_counter reads time.process_time, so the ms are this process's CPU time.
 */
function pytorchMs(yardstick: string, threads: number, model: string, cpu: boolean): number {
  const run = [
    'import runpy, sys, time',
    ...(cpu ? ['time.perf_counter = time.process_time'] : []),
    `sys.argv = ${JSON.stringify([yardstick, String(threads), model])}`,
    `runpy.run_path(${JSON.stringify(yardstick)}, run_name='__main__')`,
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', run], { encoding: 'utf8' });
  const fields = out.trim().split('\n').pop()?.split('\t') ?? [];
  const ms = Number(fields[2]);
  if (fields[0] !== model || !Number.isFinite(ms))
    throw new Error(`the PyTorch yardstick printed no time for ${model}: ${JSON.stringify(out)}`);
  return ms;
}

/** Why the yardstick cannot run here, or null when it can. */
export function pytorchMissing(yardstick: string): string | null {
  if (!existsSync(yardstick)) return `no yardstick script at ${yardstick}`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${PYTHON} cannot import torch (apt-get install -y python3-torch)`;
  }
}

export async function benchAgainstPytorch(yardstick: string): Promise<RatioTable> {
  const why = pytorchMissing(yardstick);
  if (why) throw new Error(`cannot compare with PyTorch: ${why}`);
  const torch = execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  const { adapter } = await initBackend('wasm');
  const rows: RatioRow[] = [];
  const cpuOf = async (model: string, timedSteps: number) => {
    const start = process.cpuUsage();
    const { msPerStep } = await benchmarkTrainingStep(model, {
      batchSize: 64,
      warmupSteps: 2,
      timedSteps,
      maxSeconds: 120,
    });
    const used = process.cpuUsage(start);
    return { cpu: (used.user + used.system) / 1000, wall: msPerStep };
  };
  for (const model of RATIO_MODELS) {
    const pytorch1 = pytorchMs(yardstick, 1, model, true);
    await cpuOf(model, 2); // first-call costs (JIT, XNNPACK operator set-up) stay out of the difference
    let extra = 0;
    let long = { cpu: 0, wall: 0 };
    for (let rep = 0; rep < 2; rep++) {
      const short = await cpuOf(model, 2);
      long = await cpuOf(model, 8);
      extra += long.cpu - short.cpu;
    }
    const lab = extra / 12;
    const pytorch2 = pytorchMs(yardstick, 2, model, false);
    rows.push({ model, pytorch1, pytorch2, lab, labWall: long.wall, ratio: lab / pytorch1 });
    console.log(`pytorch ${model}: ${pytorch1.toFixed(1)} CPU ms (1 thread), lab ${lab.toFixed(1)} CPU ms`);
  }
  return { date: new Date().toISOString().slice(0, 10), torch: `PyTorch ${torch.trim()}`, adapter, rows };
}

export function ratioMarkdown(table: RatioTable | null, why: string | null): string[] {
  const head = ['## CPU training against PyTorch', ''];
  if (!table)
    return [...head, `Not measured on this machine: ${why ?? 'run `npm run bench -- --only pytorch`'}.`];
  return [
    ...head,
    `Written by \`npm run bench\` (\`--only pytorch\`) on ${table.date}: ms per training step, batch 64, SGD with`,
    `momentum, cross-entropy + L2, the same layer shapes; ${table.torch} (Debian's python3-torch) through`,
    '`shared/yardsticks/pytorch_step.py` (mean of 10 steps after 3 warm-up steps), the lab through the same',
    `step as the table above (wasm in Node: ${table.adapter}). Each row was measured back to back. Other`,
    "processes shared this machine's 2 cores, so the single-threaded columns are CPU ms of the process that ran",
    'the steps (PyTorch: its clock swapped for process_time; lab: CPU of 8 timed steps less that of 2, twice, over 12);',
    'wall times drift with the load: the 2-thread PyTorch column and the lab wall column are for reference only.',
    '',
    '| preset | PyTorch, 1 thread (CPU ms) | PyTorch, 2 threads (wall ms) | lab, wasm in Node, 1 thread (CPU ms) | lab (wall ms) | ratio (1 thread, CPU) |',
    '|---|---:|---:|---:|---:|---:|',
    ...table.rows.map(
      (r) =>
        `| ${r.model} | ${r.pytorch1.toFixed(1)} | ${r.pytorch2.toFixed(1)} | ${r.lab.toFixed(1)} | ${r.labWall.toFixed(0)} | ${r.ratio.toFixed(1)}x |`,
    ),
  ];
}
