/**
 * Issue 11's teacher target in the browser: wall ms per distillation step on wasm, with the teacher's pass a
 * batch ahead in its own Worker (engine/distill/teacherAhead.ts) and in line on the training thread, against
 * plain CE. `npx tsx scripts/bench-teacher-ahead.ts [STUDENT ...] [--rounds N]` (default cnn-small resnet8, 3
 * rounds; teacher VGG-Fast with seeded random weights, batch 64, 12 warm-up steps, in which a new Worker
 * compiles its wasm up a tier, and 12 timed ones). The production build is served twice by Vite's preview
 * server: without the isolation headers (single-threaded wasm, where the lab runs the teacher ahead) and as
 * `npm run preview` serves it (wasm threads on every core, where the lab keeps the teacher in line, timed for
 * comparison). The variants take turns round by round; prints each and the medians. A benchmark: run it on an
 * otherwise idle machine.
 */
import { parseArgs } from 'node:util';
import type { DistillStepBenchmark } from '../src/engine/benchmark';
import { median, openBenchPages } from './benchPages';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' } },
});
const students = positionals.length ? positionals : ['cnn-small', 'resnet8'];
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number >= 1`);

/**
 * What is timed: a method on a page, with its teacher in line, or where the lab chooses (`inline` false): ahead
 * on the single-threaded page; on the threaded one ahead with a thread of the student's pool given to it where
 * distill/teacherCore.ts says so, else in line.
 */
const variants = [
  { name: 'ce', page: 'single', method: 'ce', inline: false },
  { name: 'kd ahead', page: 'single', method: 'kd', inline: false },
  { name: 'kd in line', page: 'single', method: 'kd', inline: true },
  { name: 'akd ahead', page: 'single', method: 'akd', inline: false },
  { name: 'akd in line', page: 'single', method: 'akd', inline: true },
  { name: 'threads: ce', page: 'threads', method: 'ce', inline: true },
  { name: 'threads: kd', page: 'threads', method: 'kd', inline: false },
  { name: 'threads: kd in line', page: 'threads', method: 'kd', inline: true },
  { name: 'threads: akd', page: 'threads', method: 'akd', inline: false },
  { name: 'threads: akd in line', page: 'threads', method: 'akd', inline: true },
] as const;

const { pages, close } = await openBenchPages(4193);

try {
  for (const student of students) {
    const ms: Record<string, number[]> = {};
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...variants].reverse() : variants;
      for (const { name, page, method, inline } of order) {
        const result = (await pages[page].evaluate(
          (args) =>
            (
              window as unknown as {
                distilleryDistillBenchmark: (id: string, options: object) => Promise<DistillStepBenchmark>;
              }
            ).distilleryDistillBenchmark(args.method, {
              student: args.student,
              batchSize: 64,
              warmupSteps: 12,
              timedSteps: 12,
              inline: args.inline,
            }),
          { method, student, inline },
        )) as DistillStepBenchmark;
        const where = result.teacherAhead ? 'ahead' : 'in line';
        if (method !== 'ce' && (inline || page === 'single') && result.teacherAhead === inline)
          throw new Error(`${name}: the teacher ran ${where}`);
        (ms[name] ??= []).push(result.msPerStep);
        const note = method !== 'ce' && !inline && page === 'threads' ? ` (teacher ${where})` : '';
        console.log(`${student} round ${round + 1} ${name}: ${result.msPerStep.toFixed(0)} ms/step${note}`);
      }
    }
    const m = Object.fromEntries(Object.entries(ms).map(([name, xs]) => [name, median(xs)]));
    const ratio = (a: string, b: string) => (m[a]! / m[b]!).toFixed(2);
    console.log(
      `${student} medians (ms/step): ${variants.map(({ name }) => `${name} ${m[name]!.toFixed(0)}`).join(', ')}`,
    );
    console.log(
      `${student}, single-threaded: kd/ce ${ratio('kd ahead', 'ce')} ahead, ${ratio('kd in line', 'ce')} in line; ` +
        `akd/kd ${ratio('akd ahead', 'kd ahead')} ahead, ${ratio('akd in line', 'kd in line')} in line; ` +
        `threads: kd/ce ${ratio('threads: kd', 'threads: ce')} (${ratio('threads: kd in line', 'threads: ce')} in line), ` +
        `akd/kd ${ratio('threads: akd', 'threads: kd')} (${ratio('threads: akd in line', 'threads: kd in line')} in line)`,
    );
  }
} finally {
  await close();
}
