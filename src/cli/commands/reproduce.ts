/**
 * `npm run cli -- reproduce`: the seed paper's comparisons (issue 10 section 4) from the lab's own CLI. Each
 * method x seed is a `distill` child process and then an `ood` one on its checkpoint (src/cli/jobs/), N at a
 * time; finished ones are kept in the work folder, so a second call resumes. Tables: src/cli/reproduceReport.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DISTILL_METHODS } from '../../engine/distill/registry';
import { defaultTrainConfig } from '../../engine/training/hyperparams';
import { BUILT_IN_OOD_SETS, isBuiltInOodSet } from '../../engine/ood/oodSets';
import { cliCommandText } from '../jobs/childCli';
import { runDistill, runOod, type DistillSpec } from '../jobs/distillJob';
import { type GridJob, isFailure, JobStopped, runGrid, trainingText } from '../jobs/grid';
import { GRID_OPTIONS, GRID_USAGE, type GridOptions, gridSettings, wholeOption } from '../jobs/gridOptions';
import { writeReport } from '../jobs/reportFiles';
import {
  machineText,
  type ReproduceRecord,
  type ReproduceRun,
  reproduceMarkdown,
  summarise,
} from '../reproduceReport';
import { UsageError } from '../usage';

export const DEFAULT_METHODS = ['ce', 'kd', 'pkt', 'akd', 'akd+kd'];

export const REPRODUCE_OPTIONS = {
  ...GRID_OPTIONS,
  methods: { type: 'string' },
  seeds: { type: 'string' },
  ood: { type: 'string', multiple: true },
} as const;

export interface ReproduceOptions extends GridOptions {
  methods?: string;
  seeds?: string;
  ood?: string[];
}

export const REPRODUCE_USAGE = `npm run cli -- reproduce [--methods ${DEFAULT_METHODS.join(',')}] [--seeds 3]
    [--ood ${BUILT_IN_OOD_SETS.join('|')}|FILE ...]
${GRID_USAGE}
  The seed paper's comparisons from the lab's own runs: each method x seed (seeds 1..N) is distilled from the
  teacher (default public/teacher, the shipped one) into the student (default cnn-small) by a \`distill\` child
  process, then analysed by \`ood\` (default --ood mnist). Writes PATH.md (its own section; the rest of the file
  is kept) and PATH.json (default --out docs/results): mean ± std of test top-1, ECE, ms/step and its cost
  relative to KD, OoD AUROC of anchor uncertainty, entropy and MSP, and the three findings. --jobs N trainings
  at once (default: the number of cores). Finished runs stay in --work DIR (default checkpoints/reproduce): run
  the same command again to resume. --limit-steps N: each training ends after N steps (for tests).`;

/** The command as given, for the report (the same call resumes). */
const commandOf = (argv: readonly string[]) => cliCommandText(['reproduce', ...argv]);

export async function reproduceCommand(options: ReproduceOptions, argv: readonly string[]): Promise<number> {
  const grid = gridSettings(options, { out: 'docs/results', work: 'checkpoints/reproduce' });
  const methods = (options.methods ?? DEFAULT_METHODS.join(',')).split(',').map((m) => m.trim());
  const ids = DISTILL_METHODS.map((m) => m.id);
  const unknown = methods.filter((m) => !ids.includes(m));
  if (unknown.length || !methods.length)
    throw new UsageError(
      `unknown method${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; methods: ${ids.join(', ')}`,
    );
  const seedCount = wholeOption('seeds', options.seeds) ?? 3;
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
  const ood = options.ood?.length ? options.ood : ['mnist'];
  for (const set of ood)
    if (!isBuiltInOodSet(set) && !existsSync(set))
      throw new Error(`--ood ${set}: not one of ${BUILT_IN_OOD_SETS.join(', ')}, and no such file`);

  // Seed-major: a reproduction cut short still has every method at the first seeds.
  const jobs: (GridJob<ReproduceRun> & { method: string; seed: number })[] = seeds.flatMap((seed) =>
    methods.map((method) => {
      const spec: DistillSpec = {
        method,
        student: grid.student,
        seed,
        epochs: grid.epochs,
        teacher: grid.teacher,
        set: grid.set,
        limitSteps: grid.limitSteps,
        backend: grid.backend,
      };
      const oodOptions = { teacher: grid.teacher, ood, set: grid.set, backend: grid.backend };
      return {
        method,
        seed,
        id: `${method}-seed${seed}`,
        label: `${method} seed ${seed}`,
        settings: { spec, ood: oodOptions },
        run: async (memo, progress, dir) => {
          const checkpoint = join(dir, 'checkpoint');
          const training = await memo(
            'distill',
            async () => {
              const outcome = await runDistill(spec, checkpoint, (p) =>
                progress(trainingText(p), 'training'),
              );
              if (outcome.status === 'stopped') throw new JobStopped();
              if (outcome.status !== 'ok') throw new Error(outcome.message ?? outcome.status);
              return outcome;
            },
            spec,
          );
          const analysis = await memo('ood', () => {
            const top1 = ((training.testAccuracy ?? 0) * 100).toFixed(1);
            progress(`trained (test top-1 ${top1}%); OoD analysis`, 'ood');
            return runOod(checkpoint, oodOptions, join(grid.work, `teacher-anchors-${grid.set}.json`));
          });
          return { method, seed, training, ood: analysis };
        },
      };
    }),
  );
  console.error(
    `reproduce: ${jobs.length} runs (${methods.join(', ')} x seeds ${seeds.join(', ')}), ${grid.jobs} at a time; work folder ${grid.work}`,
  );
  const outcome = await runGrid(jobs, { work: grid.work, concurrency: grid.jobs });
  const runs: ReproduceRun[] = [];
  const failed: ReproduceRecord['failed'][number][] = [];
  for (const job of jobs) {
    const result = outcome.results.get(job.id);
    if (result && !isFailure(result)) runs.push(result);
    else failed.push({ method: job.method, seed: job.seed, why: result ? result.failed : 'not started' });
  }
  const record: ReproduceRecord = {
    command: commandOf(argv),
    calls: outcome.calls,
    machine: machineText(),
    settings: {
      methods,
      seeds,
      student: grid.student,
      epochs: grid.epochs ?? defaultTrainConfig(grid.student).epochs,
      limitSteps: grid.limitSteps ?? null,
      teacher: grid.teacher,
      set: grid.set,
      ood,
    },
    summary: summarise(methods, runs),
    runs,
    failed,
  };
  const paths = await writeReport(grid.out, 'reproduce', reproduceMarkdown(record), record);
  console.error(`reproduce: ${runs.length} of ${jobs.length} runs done; wrote ${paths.md} and ${paths.json}`);
  if (outcome.interrupted) return 130;
  return failed.length ? 1 : 0;
}
