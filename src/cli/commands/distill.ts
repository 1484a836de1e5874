import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { createDistillation, type DistillSettings, timedHooks } from '../../engine/distill/distillRun';
import { type DistillMethod, MethodParamError, validateParams } from '../../engine/distill/method';
import { encodeMethodCheckpoint, METHOD_FILES } from '../../engine/distill/methodCheckpoint';
import { DISTILL_METHODS } from '../../engine/distill/registry';
import { flopsPerImage, MODEL_PRESETS } from '../../engine/models/presets';
import { CHECKPOINT_FILES, type CheckpointStore, saveCheckpoint } from '../../engine/training/checkpoint';
import type { TrainConfig } from '../../engine/training/hyperparams';
import { loadTeacher } from '../../engine/training/labModels';
import { StepTimer } from '../../engine/training/stepTimer';
import { folderStore } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { jsonLine, type TrainingOptions, trainConfigFrom } from '../trainingOptions';
import { UsageError } from '../usage';

const STUDENTS = MODEL_PRESETS.filter((p) => p.role === 'student').map((p) => p.id);

export const DISTILL_USAGE = `npm run cli -- distill --method NAME [--param name=value ...] --teacher DIR [--student PRESET]
    [--epochs N] [--batch B] [--lr X] [--optimizer sgd|adam] [--schedule cosine|step|onecycle|constant]
    [--momentum M] [--weight-decay W] [--no-augment] [--seed S] [--labelled 1|0.2|0]
    [--set ${PREPARED_SET_IDS.join('|')}] [--out DIR] [--backend wasm|cpu|webgpu] [--limit-steps N]
  Distils the teacher in --teacher DIR (model.json + weights.bin of a teacher preset) into a new student (default
  cnn-small) with one method; prints one JSON line per logged step (every named loss term) and per epoch, as
  train does. Saves a checkpoint in the --out folder at every epoch end and on Ctrl-C: the student in the tfjs
  format, the method's own state in ${METHOD_FILES.json} + ${METHOD_FILES.bin}. --labelled: the share of training
  labels used (class-balanced). ce (the student alone, the baseline) needs no --teacher.
  --limit-steps N (for tests and quick looks): end after N steps in all, with a checkpoint and the test accuracy.
  Methods and their parameters (defaults):
${DISTILL_METHODS.map((m) => `    ${m.id}${m.params.length ? `: ${m.params.map((p) => `${p.name}=${p.default}`).join(', ')}` : ''}`).join('\n')}`;

export interface DistillOptions extends TrainingOptions {
  method?: string;
  param?: string[];
  teacher?: string;
  student?: string;
  labelled?: string;
  'limit-steps'?: string;
}

const line = jsonLine;

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
  if (method.id !== 'ce' && !options.teacher)
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

/** A folder store that writes the method's files with every checkpoint. */
function withMethodFiles(
  store: CheckpointStore,
  methodFiles: () => Promise<Record<string, Uint8Array | string>>,
) {
  return {
    ...store,
    write: async (files: Record<string, Uint8Array | string>) =>
      store.write({ ...files, ...(await methodFiles()) }),
  };
}

export async function distillCommand(options: DistillOptions): Promise<number> {
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const limit = options['limit-steps'] === undefined ? null : Number(options['limit-steps']);
  if (limit !== null && !(Number.isInteger(limit) && limit >= 1))
    throw new UsageError(`--limit-steps must be a whole number >= 1; got ${options['limit-steps']}`);
  // Every setting is checked before the backend starts or any data is read.
  const settings = settingsOf(options);
  const { train: config } = settings;
  const backend = await startNodeBackend(options.backend as BackendName | undefined);
  let teacher: { model: tf.LayersModel; preset: string } | null = null;
  if (options.teacher) {
    const store = folderStore(options.teacher);
    teacher = await loadTeacher(
      await store.read(CHECKPOINT_FILES.model),
      await store.read(CHECKPOINT_FILES.weights),
      `${options.teacher}/${CHECKPOINT_FILES.model}`,
    );
  }
  const dataset = await loadPreparedFromDisk(set);
  const out = options.out ?? `checkpoints/distill-${settings.method}-${config.model}-seed${config.seed}`;
  // ce never uses a teacher, even when one is given.
  const distillation = await createDistillation(
    settings,
    dataset,
    settings.method === 'ce' ? null : (teacher?.model ?? null),
  );
  const { student, instance, optimizer, trainer } = distillation;
  line({
    kind: 'start',
    backend: backend.backend,
    adapter: backend.adapter,
    set,
    trainSize: dataset.train.count,
    testSize: dataset.test.count,
    method: settings.method,
    params: settings.params,
    labelledFraction: settings.labelledFraction,
    labelledCount: distillation.labelledCount,
    teacher: teacher && settings.method !== 'ce' ? { dir: options.teacher, preset: teacher.preset } : null,
    student: config.model,
    parameters: student.countParams(),
    flopsPerImage: flopsPerImage(student),
    setupSeconds: distillation.setupSeconds,
    out,
    config,
  });
  const methodInfo = {
    method: settings.method,
    params: settings.params,
    labelledFraction: settings.labelledFraction,
    teacher:
      teacher && settings.method !== 'ce' ? { preset: teacher.preset, source: options.teacher! } : null,
  };
  const store = withMethodFiles(folderStore(out), async () => {
    const { json, bin } = encodeMethodCheckpoint(methodInfo, (await instance.state?.()) ?? {});
    return { [METHOD_FILES.json]: json, [METHOD_FILES.bin]: bin };
  });
  const save = () => saveCheckpoint(store, student, optimizer, { config, state: trainer.state });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = new StepTimer(() => performance.now());
  let steps = 0;
  const outcome = await trainer.run(
    timedHooks(timer, {
      onStep: line,
      onEpoch: async (log) => {
        line(log);
        await save();
      },
      atBoundary: () => {
        if (interrupted || (limit !== null && steps >= limit)) return true;
        steps += 1;
        return false;
      },
    }),
  );
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const position = { epoch: trainer.state.epoch, stepInEpoch: trainer.state.stepInEpoch };
  try {
    if (outcome.kind === 'stopped' && interrupted) {
      await save();
      line({ kind: 'stopped', ...position, checkpoint: out, msPerStep: timer.msPerStep });
      return 130;
    }
    if (outcome.kind === 'nan') {
      line({
        ...outcome,
        kind: 'error',
        message: `loss term "${outcome.term}" is not finite at epoch ${outcome.epoch}, step ${outcome.step}; training stopped, the last good checkpoint (end of epoch ${trainer.state.epochs.length}) stays in ${out}`,
      });
      return 1;
    }
    if (outcome.kind === 'stopped') {
      // --limit-steps: a checkpoint where it stopped, and the test accuracy there.
      await save();
      const { accuracy } = await trainer.evaluate(dataset.test);
      line({
        kind: 'done',
        ...position,
        limitSteps: limit,
        testAccuracy: accuracy,
        checkpoint: out,
        msPerStep: timer.msPerStep,
        numTensors: tf.memory().numTensors,
      });
      return 0;
    }
    line({
      kind: 'done',
      epochs: trainer.state.epoch,
      checkpoint: out,
      msPerStep: timer.msPerStep,
      numTensors: tf.memory().numTensors,
    });
    return 0;
  } finally {
    distillation.dispose();
    teacher?.model.dispose();
  }
}
