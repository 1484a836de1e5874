/**
 * Issue 11's main-thread target ("no main-thread long task over 50 ms while training"): what the page's main
 * thread does while the Student panel trains its default (cnn-small, embedded set), or with `--panel distill` while
 * the Distillation panel runs its default (KD from the shipped teacher; `--method ID` for another method), on the
 * production build with wasm threads and without (benchPages.ts). `npx tsx scripts/bench-main-thread.ts [--panel
 * student|distill] [--method ID] [--rounds N] [--seconds S]` (default 3 rounds of 10 s, the pages taking turns). Each round starts a run, waits for its first step, records a
 * Chromium trace for S seconds, then stops the run. From the trace: the main thread's tasks (RunTask on the
 * page's CrRendererMain), their total time, how many took over 16, 30 and 50 ms, and the longest. Prints a
 * markdown table. A benchmark: on 2 cores the threaded page's training keeps both cores busy, and the OS shares
 * them with the main thread, so its tasks take longer there than on an idle machine.
 */
import { parseArgs } from 'node:util';
import type { Page } from '@playwright/test';
import { openBenchPages, type PageKind } from './benchPages';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    panel: { type: 'string', default: 'student' },
    method: { type: 'string' },
  },
});
const panel = values.panel!;
if (panel !== 'student' && panel !== 'distill') throw new Error('--panel must be student or distill');
if (values.method && panel !== 'distill') throw new Error('--method needs --panel distill');
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error('--rounds must be a whole number >= 1');
if (!(seconds > 0)) throw new Error('--seconds must be a positive number');

interface TraceEvent {
  readonly name: string;
  readonly pid: number;
  readonly tid: number;
  readonly dur?: number;
  readonly args?: { readonly name?: string };
}

interface Round {
  readonly page: PageKind;
  readonly steps: number;
  readonly busyMs: number;
  readonly tasks: readonly number[];
}

const PROGRESS = `[data-testid=${panel}-progress]`;
const stepOf = async (page: Page) => Number(await page.getAttribute(PROGRESS, 'data-step'));

/** Trains for `seconds` on `page` and returns its main thread's task durations (ms) over that time. */
async function measure(kind: PageKind, page: Page): Promise<Round> {
  if (values.method) await page.selectOption('[data-testid=distill-method]', values.method);
  await page.click(`[data-testid=${panel}-train-start]`);
  await page.waitForFunction(
    (selector) => Number(document.querySelector(selector)?.getAttribute('data-step')) >= 1,
    PROGRESS,
    { timeout: 120_000 },
  );
  const browser = page.context().browser()!;
  await browser.startTracing(page, {
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'],
  });
  const from = await stepOf(page);
  await page.waitForTimeout(seconds * 1000);
  const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
  const steps = (await stepOf(page)) - from;
  await page.click(`[data-testid=${panel}-train-stop]`);
  await page.waitForSelector(`${PROGRESS}[data-status=stopped]`, { timeout: 60_000 });
  // Both pages' renderers are in the trace; the training page's main thread is the busy one.
  const mains = trace.traceEvents.filter(
    (e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
  );
  const tasksOf = (main: TraceEvent) =>
    trace.traceEvents
      .filter((e) => e.name === 'RunTask' && e.pid === main.pid && e.tid === main.tid && e.dur)
      .map((e) => e.dur! / 1000);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const tasks = mains.map(tasksOf).sort((a, b) => sum(b) - sum(a))[0] ?? [];
  return { page: kind, steps, busyMs: sum(tasks), tasks: tasks.sort((a, b) => b - a) };
}

const { pages, close } = await openBenchPages(4193);
const results: Round[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 ? (['single', 'threads'] as const) : (['threads', 'single'] as const)) {
      const result = await measure(kind, pages[kind]);
      results.push(result);
      console.log(
        `round ${round + 1} ${kind}: ${result.steps} steps, main thread busy ${result.busyMs.toFixed(0)} ms, ` +
          `longest tasks ${result.tasks
            .slice(0, 5)
            .map((t) => t.toFixed(0))
            .join(' ')} ms`,
      );
    }
  }
} finally {
  await close();
}

const over = (r: Round, ms: number) => r.tasks.filter((t) => t > ms).length;
console.log(
  `\nMain thread while ${panel === 'student' ? 'the Student panel trains cnn-small' : `the Distillation panel runs ${values.method ?? 'kd'}`}, ${seconds} s per round (${new Date().toISOString()})\n`,
);
console.log(
  '| page | round | steps | main thread busy (ms) | tasks > 16 ms | > 30 ms | > 50 ms | longest (ms) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [i, r] of results.entries())
  console.log(
    `| ${r.page} | ${Math.floor(i / 2) + 1} | ${r.steps} | ${r.busyMs.toFixed(0)} | ${over(r, 16)} | ${over(r, 30)} | ` +
      `${over(r, 50)} | ${(r.tasks[0] ?? 0).toFixed(0)} |`,
  );
