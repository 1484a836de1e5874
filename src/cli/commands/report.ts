/**
 * `npm run cli -- report`: the compression report card of a saved teacher and student (engine/report/reportCard.ts),
 * as one JSON object.
 */
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { reportCard, type ReportSubject } from '../../engine/report/reportCard';
import { checkArchitecture, CHECKPOINT_FILES, loadModel } from '../../engine/training/checkpoint';
import { folderStore } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { UsageError } from '../usage';

export const REPORT_USAGE = `npm run cli -- report --teacher DIR --student DIR [--set ${PREPARED_SET_IDS.join('|')}] [--warmup N]
    [--repeats N] [--backend wasm|cpu|webgpu]
  The report card of a teacher and a student (each DIR: model.json + weights.bin), as one JSON object: per model
  parameters, multiply-adds and FLOPs per image (1 multiply-add = 2 FLOPs; conv and dense layers), bytes of the
  saved weights, inference latency per image at batch 1 and 64 (median of --repeats timed runs, default 9, after
  --warmup untimed ones, default 2) and test accuracy; then retention (student / teacher accuracy), compression
  (teacher / student weight bytes) and speed-up (teacher / student latency).`;

export const REPORT_OPTIONS = {
  teacher: { type: 'string' },
  student: { type: 'string' },
  set: { type: 'string' },
  warmup: { type: 'string' },
  repeats: { type: 'string' },
  backend: { type: 'string' },
} as const;

/** A whole number in [min, max] from an option's text; the message names the option. */
function wholeNumber(text: string | undefined, option: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}; got "${text}"`);
  return value;
}

async function loadSubject(dir: string, role: 'teacher' | 'student'): Promise<ReportSubject> {
  const store = folderStore(dir);
  const name = `${dir}/${CHECKPOINT_FILES.model}`;
  const { model, metadata } = await loadModel(
    await store.read(CHECKPOINT_FILES.model),
    await store.read(CHECKPOINT_FILES.weights),
    name,
  );
  if (metadata) checkArchitecture(model, metadata.preset, name);
  return { model, name: dir, preset: metadata?.preset ?? 'unknown', role };
}

export async function reportCommand(options: {
  teacher?: string;
  student?: string;
  set?: string;
  warmup?: string;
  repeats?: string;
  backend?: string;
}): Promise<string> {
  const missing = (['teacher', 'student'] as const).filter((o) => !options[o]);
  if (missing.length) throw new UsageError(`report needs ${missing.map((o) => `--${o} DIR`).join(' and ')}`);
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const warmup = wholeNumber(options.warmup, 'warmup', 0, 100);
  const repeats = wholeNumber(options.repeats, 'repeats', 1, 1000);
  await startNodeBackend(options.backend as never);
  const teacher = await loadSubject(options.teacher!, 'teacher');
  const student = await loadSubject(options.student!, 'student');
  const dataset = await loadPreparedFromDisk(set);
  const card = await reportCard(teacher, student, dataset.test, {
    ...(warmup === undefined ? {} : { warmup }),
    ...(repeats === undefined ? {} : { repeats }),
  });
  teacher.model.dispose();
  student.model.dispose();
  return JSON.stringify({ ...card, set });
}
