/**
 * `npm run cli -- sweep`: KD's temperature x alpha grid (issue 12) as short `distill --method kd` child
 * processes plus one `ce` baseline of the same budget, N at a time, resumable (src/cli/jobs/). Tables:
 * src/cli/sweepReport.ts.
 */
import { BASELINE_METHOD } from '../../engine/config/methods';
import {
  cellParams,
  DEFAULT_SWEEP_ALPHAS,
  DEFAULT_SWEEP_TEMPERATURES,
  SWEEP_COLUMN_PARAM,
  SWEEP_METHOD,
  SWEEP_ROW_PARAM,
  sweepCells,
} from '../../engine/config/sweep';
import { validateParams } from '../../engine/distill/method';
import { findMethod } from '../../engine/distill/registry';
import { cliCommandText } from '../jobs/childCli';
import { type DistillOutcome, type DistillSpec, runDistill } from '../jobs/distillJob';
import { type GridJob, isFailure, JobStopped, runGrid, trainingText } from '../jobs/grid';
import {
  GRID_OPTIONS,
  GRID_USAGE,
  type GridOptions,
  gridSettings,
  numberList,
  wholeOption,
} from '../jobs/gridOptions';
import { writeReport } from '../jobs/reportFiles';
import { machineText } from '../reproduceReport';
import { bestCell, type SweepCell, type SweepRecord, sweepMarkdown } from '../sweepReport';

export const SWEEP_OPTIONS = {
  ...GRID_OPTIONS,
  temperatures: { type: 'string' },
  alphas: { type: 'string' },
  seed: { type: 'string' },
} as const;

export interface SweepOptions extends GridOptions {
  temperatures?: string;
  alphas?: string;
  seed?: string;
}

// The grid the UI's sweep panel uses too (src/engine/config/sweep.ts).
const DEFAULT_TEMPERATURES = DEFAULT_SWEEP_TEMPERATURES.join(',');
const DEFAULT_ALPHAS = DEFAULT_SWEEP_ALPHAS.join(',');
const DEFAULT_EPOCHS = 1;

export const SWEEP_USAGE = `npm run cli -- sweep [--temperatures ${DEFAULT_TEMPERATURES}] [--alphas ${DEFAULT_ALPHAS}] [--seed S]
${GRID_USAGE}
  Short KD runs over a temperature x alpha grid (default ${DEFAULT_EPOCHS} epoch each, seed 1) from the teacher (default
  public/teacher) into the student (default cnn-small), with a ce baseline of the same budget; each a
  \`distill\` child process, --jobs N at once (default: the number of cores). Writes PATH.md (its own section)
  and PATH.json (default --out docs/sweep): test top-1 per cell, points against ce, the best cell named.
  Finished runs stay in --work DIR (default checkpoints/sweep): the same command again resumes.`;

type Job = GridJob<DistillOutcome> & { cell: { temperature: number; alpha: number } | null };

export async function sweepCommand(options: SweepOptions, argv: readonly string[]): Promise<number> {
  const grid = gridSettings(options, { out: 'docs/sweep', work: 'checkpoints/sweep' });
  const temperatures = numberList('temperatures', options.temperatures ?? DEFAULT_TEMPERATURES);
  const alphas = numberList('alphas', options.alphas ?? DEFAULT_ALPHAS);
  const swept = findMethod(SWEEP_METHOD);
  // Every value against the method's own ranges, all problems at once (MethodParamError names them).
  for (const temperature of temperatures) validateParams(swept, { [SWEEP_ROW_PARAM]: temperature });
  for (const alpha of alphas) validateParams(swept, { [SWEEP_COLUMN_PARAM]: alpha });
  const seed = wholeOption('seed', options.seed) ?? 1;
  const epochs = grid.epochs ?? DEFAULT_EPOCHS;

  const spec = (method: string, params?: Record<string, number>): DistillSpec => ({
    method,
    params,
    student: grid.student,
    seed,
    epochs,
    teacher: grid.teacher,
    set: grid.set,
    limitSteps: grid.limitSteps,
    backend: grid.backend,
  });
  const job = (id: string, label: string, s: DistillSpec, cell: Job['cell']): Job => ({
    id,
    label,
    cell,
    settings: s,
    run: (memo, progress, dir) =>
      memo('distill', async () => {
        const outcome = await runDistill(s, `${dir}/checkpoint`, (p) =>
          progress(trainingText(p), 'training'),
        );
        if (outcome.status === 'stopped') throw new JobStopped();
        if (outcome.status !== 'ok') throw new Error(outcome.message ?? outcome.status);
        return outcome;
      }),
  });
  const jobs: Job[] = [
    job(`${BASELINE_METHOD}-seed${seed}`, `${BASELINE_METHOD} baseline`, spec(BASELINE_METHOD), null),
    ...sweepCells(temperatures, alphas).map((cell) =>
      job(
        `${SWEEP_METHOD}-T${cell.temperature}-a${cell.alpha}-seed${seed}`,
        `${SWEEP_METHOD} T=${cell.temperature} alpha=${cell.alpha}`,
        spec(SWEEP_METHOD, cellParams(cell)),
        cell,
      ),
    ),
  ];
  console.error(
    `sweep: ${jobs.length - 1} cells (T ${temperatures.join(', ')} x alpha ${alphas.join(', ')}) and a ce baseline, ${grid.jobs} at a time; work folder ${grid.work}`,
  );
  const outcome = await runGrid(jobs, { work: grid.work, concurrency: grid.jobs });
  const cells: SweepCell[] = [];
  const failed: SweepRecord['failed'][number][] = [];
  let baseline: DistillOutcome | null = null;
  for (const j of jobs) {
    const result = outcome.results.get(j.id);
    if (!result || isFailure(result))
      failed.push({ job: j.label, why: result ? result.failed : 'not started' });
    else if (j.cell) cells.push({ ...j.cell, training: result });
    else baseline = result;
  }
  const record: SweepRecord = {
    command: cliCommandText(['sweep', ...argv]),
    calls: outcome.calls,
    machine: machineText(),
    settings: {
      temperatures,
      alphas,
      seed,
      student: grid.student,
      epochs,
      limitSteps: grid.limitSteps ?? null,
      teacher: grid.teacher,
      set: grid.set,
    },
    baseline,
    cells,
    best: bestCell(cells),
    failed,
  };
  const paths = await writeReport(grid.out, 'sweep', sweepMarkdown(record), record);
  console.error(
    `sweep: ${cells.length} of ${jobs.length - 1} cells done; wrote ${paths.md} and ${paths.json}`,
  );
  if (outcome.interrupted) return 130;
  return failed.length ? 1 : 0;
}
