import { nodeTeacherHost } from '../teacherThread';
import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import {
  type DistillMethod,
  LABELLED_FRACTIONS,
  MethodParamError,
  validateParams,
} from '../../engine/distill/method';
import { METHOD_FILES } from '../../engine/distill/methodCheckpoint';
import { DISTILL_METHODS } from '../../engine/distill/registry';
import { MODEL_PRESETS } from '../../engine/models/presets';
import { LabRun, type RunTeacher } from '../../engine/run/labRun';
import type { DistillSettings } from '../../engine/run/runSpec';
import { logEveryFor } from '../../engine/run/runTypes';
import { CHECKPOINT_FILES } from '../../engine/training/checkpoint';
import type { TrainConfig } from '../../engine/training/hyperparams';
import { loadTeacher } from '../../engine/training/labModels';
import { folderSlot, folderStore } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { limitStepsOf, runToEnd, startLine, wholeNumber } from '../runLoop';
import { SETTING_FLAGS_USAGE, type TrainingOptions, trainConfigFrom } from '../trainingOptions';
import { UsageError } from '../usage';

const STUDENTS = MODEL_PRESETS.filter((p) => p.role === 'student').map((p) => p.id);

export const DISTILL_USAGE = `npm run cli -- distill --method NAME [--param name=value ...] --teacher DIR [--student PRESET]
    ${SETTING_FLAGS_USAGE}
    [--labelled ${LABELLED_FRACTIONS.join('|')}] [--set ${PREPARED_SET_IDS.join('|')}] [--out DIR] [--backend wasm|cpu|webgpu] [--limit-steps N]
  npm run cli -- distill --resume DIR [--teacher DIR] [--epochs N] [--limit-steps N]
  Distils the teacher in --teacher DIR (model.json + weights.bin of a teacher preset) into a new student (default
  cnn-small) with one method; prints one JSON line per logged step (every named loss term) and per epoch, as
  train does. Saves a checkpoint in the --out folder at every epoch end, every 30 s of training and on Ctrl-C
  or SIGTERM (within one step; exit 130; a second Ctrl-C quits at once): the student in the tfjs format, the
  method's own state in ${METHOD_FILES.json} + ${METHOD_FILES.bin}. --resume DIR continues such a checkpoint
  exactly where it stood (a distillation needs its --teacher again). --labelled: the share of training labels
  used (class-balanced). ce (the student alone, the baseline) needs no --teacher.
  --limit-steps N (for tests and quick looks): end after N steps of this call, with a checkpoint and the test
  accuracy.
  Methods and their parameters (defaults):
${DISTILL_METHODS.map((m) => `    ${m.id}${m.params.length ? `: ${m.params.map((p) => `${p.name}=${p.default}`).join(', ')}` : ''}`).join('\n')}`;

export interface DistillOptions extends TrainingOptions {
  method?: string;
  param?: string[];
  teacher?: string;
  student?: string;
  labelled?: string;
  resume?: string;
  'limit-steps'?: string;
}

/** The method by id; an unknown one is a usage error listing the valid ids. */
function methodOf(id: string | undefined): DistillMethod {
  if (!id)
    throw new UsageError(`distill needs --method (one of ${DISTILL_METHODS.map((m) => m.id).join(', ')})`);
  const method = DISTILL_METHODS.find((m) => m.id === id);
  if (!method)
    throw new UsageError(
      `unknown distillation method "${id}"; methods: ${DISTILL_METHODS.map((m) => m.id).join(', ')}`,
    );
  return method;
}

/**
 * `--param name=value` pairs checked by the method's own validateParams: an unknown name is a usage error (exit
 * 2) listing the valid names, a bad value an error (exit 1) naming the range.
 */
export function paramsOf(method: DistillMethod, pairs: readonly string[] = []): Record<string, number> {
  const raw: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--param takes name=value; got "${pair}"`);
    raw[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  const known = new Set(method.params.map((p) => p.name));
  const unknown = Object.keys(raw).filter((name) => !known.has(name));
  if (unknown.length) {
    try {
      validateParams(method, Object.fromEntries(unknown.map((name) => [name, raw[name]])));
    } catch (error) {
      if (error instanceof MethodParamError) throw new UsageError(error.message);
      throw error;
    }
  }
  return { ...validateParams(method, raw) };
}

function settingsOf(options: DistillOptions): DistillSettings {
  const method = methodOf(options.method);
  const params = paramsOf(method, options.param);
  if (method.needsTeacher && !options.teacher)
    throw new UsageError('distill needs --teacher DIR (a folder with model.json and weights.bin)');
  const student = options.student ?? 'cnn-small';
  if (!STUDENTS.includes(student)) {
    const preset = MODEL_PRESETS.find((p) => p.id === student);
    throw new UsageError(
      preset
        ? `preset ${student} is a ${preset.role} model, not a student; students: ${STUDENTS.join(', ')}`
        : `unknown student preset "${student}"; students: ${STUDENTS.join(', ')}`,
    );
  }
  const labelled = options.labelled === undefined ? 1 : Number(options.labelled);
  if (!(labelled >= 0 && labelled <= 1))
    throw new Error(`labelled fraction must be between 0 and 1; got ${options.labelled}`);
  const train: TrainConfig = trainConfigFrom(options, { role: 'student', model: student });
  return { method: method.id, params, labelledFraction: labelled, train };
}

/**
 * The teacher in `dir` (model.json + weights.bin of a teacher preset), as a run records it, with its stored
 * anchors on prepared set `set` when it has them.
 */
export async function teacherFrom(dir: string, set?: string): Promise<RunTeacher> {
  const store = folderStore(dir);
  const { model, preset, anchors } = await loadTeacher(
    await store.read(CHECKPOINT_FILES.model),
    await store.read(CHECKPOINT_FILES.weights),
    `${dir}/${CHECKPOINT_FILES.model}`,
  );
  const known = set === undefined ? undefined : anchors[set];
  return { model, preset, source: dir, ...(known ? { knownAnchors: known } : {}) };
}

/** A distillation (or, with `ce`, the student alone): one pipeline with `train`, src/engine/run/. */
export async function distillCommand(options: DistillOptions): Promise<number> {
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const limitSteps = limitStepsOf(options['limit-steps']);
  // Every setting is checked before the backend starts or any data is read.
  const settings = options.resume ? null : settingsOf(options);
  const backend = await startNodeBackend(options.backend as BackendName | undefined);
  const logEvery = logEveryFor(backend.backend);
  const teacher = options.teacher ? await teacherFrom(options.teacher, set) : null;
  const dataset = await loadPreparedFromDisk(set);
  // The teacher's pass a batch ahead on a worker thread (engine/distill/teacherAhead.ts).
  const teacherHost = nodeTeacherHost();
  const hostOptions = teacherHost ? { teacherHost } : {};
  let run: LabRun;
  try {
    run = settings
      ? await LabRun.start(
          { ...settings, train: { ...settings.train, logEvery } },
          dataset,
          teacher,
          folderSlot(
            options.out ??
              `checkpoints/distill-${settings.method}-${settings.train.model}-seed${settings.train.seed}`,
          ),
          hostOptions,
        )
      : await LabRun.restore(folderSlot(options.resume!), dataset, teacher, {
          ...hostOptions,
          logEvery,
          epochs: options.epochs === undefined ? undefined : wholeNumber(options.epochs, '--epochs'),
        });
  } catch (error) {
    teacher?.model.dispose();
    throw error;
  }
  const { config } = run;
  const out =
    options.out ??
    options.resume ??
    `checkpoints/distill-${run.settings.method}-${config.model}-seed${config.seed}`;
  try {
    startLine(
      run,
      { backend, set, dataset, out },
      {
        method: run.settings.method,
        params: run.settings.params,
        labelledFraction: run.settings.labelledFraction,
        labelledCount: run.labelledCount,
        teacher: run.usesTeacher && teacher ? { dir: teacher.source, preset: teacher.preset } : null,
        student: config.model,
        setupSeconds: run.setupSeconds,
        teacherAhead: run.teacherAhead,
      },
    );
    return await runToEnd(run, dataset, { out, limitSteps });
  } finally {
    run.dispose();
    teacher?.model.dispose();
  }
}
