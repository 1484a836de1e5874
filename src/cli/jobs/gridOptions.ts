/**
 * The options `reproduce` and `sweep` share (one parseArgs declaration, one check each), checked before any
 * child process starts so that a typo is refused at once, by name.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { MODEL_PRESETS } from '../../engine/models/presets';
import { UsageError } from '../usage';
import { defaultJobs } from './pool';

export const GRID_OPTIONS = {
  student: { type: 'string' },
  epochs: { type: 'string' },
  teacher: { type: 'string' },
  set: { type: 'string' },
  backend: { type: 'string' },
  'limit-steps': { type: 'string' },
  jobs: { type: 'string' },
  out: { type: 'string' },
  work: { type: 'string' },
} as const;

export interface GridOptions {
  student?: string;
  epochs?: string;
  teacher?: string;
  set?: string;
  backend?: string;
  'limit-steps'?: string;
  jobs?: string;
  out?: string;
  work?: string;
}

export const GRID_USAGE = `    [--student PRESET] [--epochs N] [--teacher DIR] [--set embedded|full] [--limit-steps N]
    [--jobs N] [--out PATH] [--work DIR] [--backend wasm|cpu|webgpu]`;

export interface GridSettings {
  readonly student: string;
  readonly epochs: number | undefined;
  readonly limitSteps: number | undefined;
  readonly teacher: string;
  readonly set: string;
  readonly backend: string | undefined;
  readonly jobs: number;
  readonly out: string;
  readonly work: string;
}

/** A whole number >= 1 for `--name`, or undefined when not given. */
export function wholeOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 1))
    throw new UsageError(`--${name} must be a whole number >= 1; got ${value}`);
  return n;
}

/** Comma-separated numbers for `--name`, each finite. */
export function numberList(name: string, value: string): number[] {
  const items = value.split(',').map((v) => v.trim());
  const numbers = items.map(Number);
  const bad = items.filter((v, i) => v === '' || !Number.isFinite(numbers[i]));
  if (bad.length || !items.length)
    throw new UsageError(`--${name} takes comma-separated numbers; got "${value}"`);
  return numbers;
}

export function gridSettings(options: GridOptions, defaults: { out: string; work: string }): GridSettings {
  const student = options.student ?? 'cnn-small';
  const students = MODEL_PRESETS.filter((p) => p.role === 'student').map((p) => p.id);
  if (!students.includes(student))
    throw new UsageError(`unknown student preset "${student}"; students: ${students.join(', ')}`);
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const teacher = options.teacher ?? 'public/teacher';
  if (!existsSync(join(teacher, 'model.json')))
    throw new Error(`--teacher ${teacher}: has no model.json (a folder with model.json and weights.bin)`);
  return {
    student,
    epochs: wholeOption('epochs', options.epochs),
    limitSteps: wholeOption('limit-steps', options['limit-steps']),
    teacher,
    set,
    backend: options.backend,
    jobs: wholeOption('jobs', options.jobs) ?? defaultJobs(),
    out: options.out ?? defaults.out,
    work: options.work ?? defaults.work,
  };
}
