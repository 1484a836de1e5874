/**
 * `npm run check:defaults`: is distillation visible at the defaults a first visit sees? Runs every method on
 * both students with the shipped teacher on the embedded set, at the defaults (the CLI's, which are the UI's:
 * one declaration in src/engine/training/hyperparams.ts and each method's file), for 1 and for 3 epochs, and
 * writes docs/defaults.md: final loss, test top-1, points against the same-seed `ce` baseline, ms per step.
 * Not part of CI: on 2 cores it takes hours for both students. Each run is a real `npm run cli -- distill`
 * child process, so the table is what a person running the CLI gets.
 *
 *   npm run check:defaults                               everything
 *   npm run check:defaults -- --students cnn-small --epochs 3 --methods ce,kd,pkt
 *   npm run check:defaults -- --jobs 2                   two runs at a time (each single-threaded)
 *
 * Rows already in docs/defaults.json with the same settings are kept, so an interrupted check resumes.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultParams } from '../src/engine/distill/method';
import { DISTILL_METHODS, findMethod } from '../src/engine/distill/registry';
import { MODEL_PRESETS } from '../src/engine/models/presets';
import { defaultTrainConfig } from '../src/engine/training/hyperparams';
import { runDistill } from '../src/cli/jobs/distillJob';
import { runPool } from '../src/cli/jobs/pool';
import { pretty } from '../src/cli/jobs/reportFiles';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEACHER = 'public/teacher';
const SEED = 1;
const JSON_OUT = join(ROOT, 'docs', 'defaults.json');
const MD_OUT = join(ROOT, 'docs', 'defaults.md');

interface Row {
  readonly method: string;
  readonly student: string;
  readonly epochs: number;
  readonly seed: number;
  /** The settings the CLI reported it used (its start line): proves these are the defaults. */
  readonly learningRate: number;
  readonly params: Record<string, number>;
  readonly finalLoss: number | null;
  readonly testAccuracy: number | null;
  readonly epochAccuracies: number[];
  readonly msPerStep: number | null;
  readonly seconds: number;
  readonly status: 'ok' | 'non-finite loss' | 'failed';
  readonly command: string;
}

const { values: args } = parseArgs({
  options: {
    students: {
      type: 'string',
      default: MODEL_PRESETS.filter((p) => p.role === 'student')
        .map((p) => p.id)
        .join(','),
    },
    methods: { type: 'string', default: DISTILL_METHODS.map((m) => m.id).join(',') },
    epochs: { type: 'string', default: '1,3' },
    jobs: { type: 'string', default: '1' },
    fresh: { type: 'boolean', default: false },
  },
});

const key = (r: Pick<Row, 'method' | 'student' | 'epochs' | 'seed'>) =>
  `${r.method}|${r.student}|${r.epochs}|${r.seed}`;

/** One real CLI distillation (a child process, src/cli/jobs/distillJob.ts). */
async function runOne(method: string, student: string, epochs: number): Promise<Row> {
  const out = await mkdtemp(join(os.tmpdir(), 'distillery-defaults-'));
  const run = await runDistill({ method, student, epochs, seed: SEED, teacher: TEACHER }, out);
  await rm(out, { recursive: true, force: true });
  await rm(`${out}.spec.json`, { force: true });
  if (run.status === 'failed') console.error(`${student} ${method} ${epochs} ep failed: ${run.message}`);
  return {
    method,
    student,
    epochs,
    seed: SEED,
    learningRate: run.learningRate ?? Number.NaN,
    params: run.params,
    finalLoss: run.finalLoss,
    testAccuracy: run.testAccuracy,
    epochAccuracies: run.epochAccuracies,
    msPerStep: run.msPerStep,
    seconds: run.seconds,
    status: run.status === 'ok' || run.status === 'non-finite loss' ? run.status : 'failed',
    command: run.command,
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

function markdown(rows: Row[]): string {
  const students = [...new Set(rows.map((r) => r.student))];
  const epochList = [...new Set(rows.map((r) => r.epochs))].sort((a, b) => a - b);
  const out: string[] = [
    '# Distillation at the defaults',
    '',
    'Written by `npm run check:defaults` (scripts/check-defaults.ts): every method on each student, distilled',
    `from the shipped teacher (\`${TEACHER}\`, vgg-fast, 84.35% on the embedded test split) on the embedded set`,
    '(10,000 train / 2,000 test images), at the defaults the lab and the CLI share, seed ' +
      SEED +
      ', wasm in',
    'Node, single-threaded. "vs ce" is the difference in test top-1 from the `ce` baseline of the same student,',
    'epochs and seed (same batches, same augmentation). ms/step is the mean wall time of a training step',
    'on this machine (2 cores, shared with other work while measured, so compare within a column only).',
    '',
    `Measured on ${os.cpus()[0]?.model ?? 'an unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
    '',
  ];
  for (const student of students) {
    const d = defaultTrainConfig(student);
    out.push(
      `## ${student}`,
      '',
      `Defaults: SGD lr ${d.learningRate} (momentum ${d.momentum}, weight decay ${d.weightDecay}), ${d.schedule} schedule, batch ${d.batchSize}, augmentation ${d.augment ? 'on' : 'off'}.`,
      '',
    );
    for (const epochs of epochList) {
      const group = rows.filter((r) => r.student === student && r.epochs === epochs);
      if (!group.length) continue;
      const base = group.find((r) => r.method === 'ce')?.testAccuracy ?? null;
      out.push(`### ${epochs} epoch${epochs === 1 ? '' : 's'}`, '');
      out.push('| method | parameters | final loss | test top-1 | vs ce | ms/step | status |');
      out.push('|---|---|---:|---:|---:|---:|---|');
      for (const r of group) {
        const params = Object.entries(r.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
        const vs =
          base === null || r.testAccuracy === null || r.method === 'ce' ? '' : pts(r.testAccuracy - base);
        out.push(
          `| ${r.method} | ${params || '—'} | ${r.finalLoss === null ? '—' : r.finalLoss.toFixed(3)} | ${pct(r.testAccuracy)} | ${vs} | ${r.msPerStep === null ? '—' : r.msPerStep.toFixed(0)} | ${r.status} |`,
        );
      }
      out.push('');
    }
  }
  out.push('## Commands', '', 'Each row is one run of:', '', '```sh');
  for (const command of [...new Set(rows.map((r) => r.command))]) out.push(command);
  out.push('```', '');
  return out.join('\n');
}

async function main(): Promise<void> {
  const students = args.students.split(',').filter(Boolean);
  const methods = args.methods.split(',').filter(Boolean);
  const epochList = args.epochs.split(',').map(Number);
  const jobs = Math.max(1, Number(args.jobs) || 1);
  for (const s of students)
    if (!MODEL_PRESETS.some((p) => p.id === s && p.role === 'student'))
      throw new Error(`unknown student ${s}`);
  for (const m of methods)
    if (!DISTILL_METHODS.some((d) => d.id === m)) throw new Error(`unknown method ${m}`);

  const kept: Row[] =
    !args.fresh && existsSync(JSON_OUT) ? (JSON.parse(await readFile(JSON_OUT, 'utf8')) as Row[]) : [];
  const rows = new Map(kept.map((r) => [key(r), r]));
  const todo: { method: string; student: string; epochs: number }[] = [];
  for (const student of students)
    for (const epochs of epochList)
      for (const method of methods) {
        const existing = rows.get(key({ method, student, epochs, seed: SEED }));
        // A kept row counts only if it ran at today's defaults (the student's and the method's).
        const sameParams =
          JSON.stringify(existing?.params ?? null) === JSON.stringify(defaultParams(findMethod(method)));
        if (
          existing?.status === 'ok' &&
          sameParams &&
          existing.learningRate === defaultTrainConfig(student).learningRate
        )
          continue;
        todo.push({ method, student, epochs });
      }
  console.log(`${todo.length} runs to do (${rows.size} kept), ${jobs} at a time`);

  const save = async () => {
    const all = [...rows.values()].sort(
      (a, b) =>
        a.student.localeCompare(b.student) ||
        a.epochs - b.epochs ||
        DISTILL_METHODS.findIndex((m) => m.id === a.method) -
          DISTILL_METHODS.findIndex((m) => m.id === b.method),
    );
    await writeFile(JSON_OUT, await pretty(JSON.stringify(all), JSON_OUT, 'json'));
    await writeFile(MD_OUT, await pretty(markdown(all), MD_OUT, 'markdown'));
  };
  await runPool(todo, jobs, async ({ method, student, epochs }) => {
    const row = await runOne(method, student, epochs);
    rows.set(key(row), row);
    console.log(
      `${student} ${method} ${epochs} ep: ${pct(row.testAccuracy)} (${row.status}, ${row.seconds.toFixed(0)} s)`,
    );
    await save();
  });
  await save();
}

await main();
