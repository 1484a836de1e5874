/**
 * Issue 11's thread target: the browser's wasm training step with threads against the same build without
 * them, `npx tsx scripts/bench-threads.ts [PRESET ...] [--rounds N]` (default vgg-fast resnet8 cnn-small, 3
 * rounds). The production build is served twice by Vite's preview server: once as `npm run preview` serves it
 * (cross-origin isolated, so wasm runs with one thread per logical core) and once without the isolation
 * headers (no SharedArrayBuffer, so tfjs loads its single-threaded wasm). The two pages take turns, round by
 * round, each timing `window.distilleryBenchmark(PRESET)` at batch 64 (wall ms per step, 2 warm-up and 6 timed
 * steps; --direct-conv: wasm's direct convolutions instead of Winograd's; --no-team: the lab's own loops on the
 * training thread alone, as before the loop team (engine/backend/wasmTeam.ts); --kernels: also one profiled step
 * per round, and the kernels' medians side by side, to see which kernels the threads speed up). Prints each
 * round and the medians; a benchmark, so run it on an otherwise idle machine: a second thread needs a free core.
 */
import { parseArgs } from 'node:util';
import type { StepBenchmark } from '../src/engine/benchmark';
import { median, openBenchPages } from './benchPages';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    'direct-conv': { type: 'boolean', default: false },
    kernels: { type: 'boolean', default: false },
    'no-team': { type: 'boolean', default: false },
  },
});
const presets = positionals.length ? positionals : ['vgg-fast', 'resnet8', 'cnn-small'];
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number >= 1`);

const { pages, close } = await openBenchPages(4191);

try {
  for (const preset of presets) {
    const ms: Record<'threads' | 'single', number[]> = { threads: [], single: [] };
    const kernelMs: Record<'threads' | 'single', Map<string, number[]>> = {
      threads: new Map(),
      single: new Map(),
    };
    for (let round = 0; round < rounds; round++) {
      // Alternate which page goes first, so that neither always meets a warmer or cooler machine.
      for (const name of round % 2 ? (['single', 'threads'] as const) : (['threads', 'single'] as const)) {
        const result = (await pages[name].evaluate(
          ({ id, winograd, kernels, loopTeam }) =>
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
              kernels,
              loopTeam,
            }),
          {
            id: preset,
            winograd: !values['direct-conv'],
            kernels: values.kernels,
            loopTeam: !values['no-team'],
          },
        )) as StepBenchmark;
        ms[name].push(result.msPerStep);
        for (const k of result.kernels ?? []) {
          const times = kernelMs[name].get(k.name) ?? [];
          kernelMs[name].set(k.name, [...times, k.ms]);
        }
        console.log(`${preset} round ${round + 1} ${name}: ${result.msPerStep.toFixed(0)} ms/step`);
      }
    }
    const t = median(ms.threads);
    const s = median(ms.single);
    console.log(
      `${preset}: median ${t.toFixed(0)} ms/step with threads, ${s.toFixed(0)} without: ${(t / s).toFixed(2)}x`,
    );
    if (values.kernels) printKernels(preset, kernelMs);
  }
} finally {
  await close();
}

/** Per kernel, the median ms of the profiled steps without and with threads, largest first; then the totals. */
function printKernels(preset: string, kernelMs: Record<'threads' | 'single', Map<string, number[]>>): void {
  const names = [...new Set([...kernelMs.single.keys(), ...kernelMs.threads.keys()])];
  const at = (page: 'threads' | 'single', name: string) => median(kernelMs[page].get(name) ?? [0]);
  names.sort((a, b) => at('single', b) - at('single', a));
  console.log(`${preset} kernels (ms, median of the profiled steps): without threads, with, ratio`);
  for (const name of names) {
    const [one, two] = [at('single', name), at('threads', name)];
    if (one >= 1 || two >= 1)
      console.log(`  ${name}: ${one.toFixed(1)} ${two.toFixed(1)} ${(two / one).toFixed(2)}x`);
  }
  const total = (page: 'threads' | 'single') => names.reduce((sum, name) => sum + at(page, name), 0);
  console.log(`  all kernels: ${total('single').toFixed(0)} ${total('threads').toFixed(0)}`);
}
