/**
 * `npm run cli -- scheme --kind born-again|mutual|online|assistant ...`: a scheme over several models and runs
 * (src/engine/schemes/, docs/design.md "Schemes"), with the CLI's run conventions (JSON lines, checkpoints for
 * every model in sub-folders of --out, Ctrl-C, --limit-steps, --resume).
 */
import { access, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { MethodParamError, type ParamValues, validateParams } from '../../engine/distill/method';
import { MODEL_PRESETS } from '../../engine/models/presets';
import type { RunTeacher } from '../../engine/run/labRun';
import { logEveryFor } from '../../engine/run/runTypes';
import { assistantStages, checkChain } from '../../engine/schemes/assistant';
import { bornAgainStages, GENERATIONS } from '../../engine/schemes/bornAgain';
import {
  type MemberSpec,
  type MultiSchemeDef,
  MultiRun,
  type SchemeStorage,
} from '../../engine/schemes/multiRun';
import { mutualScheme } from '../../engine/schemes/mutual';
import { onlineScheme } from '../../engine/schemes/online';
import { ensembleAccuracy, StagedRun } from '../../engine/schemes/stagedRun';
import type { TrainConfig } from '../../engine/training/hyperparams';
import { evaluateModel } from '../../engine/training/trainer';
import { folderSlot } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { limitStepsOf, wholeNumber } from '../runLoop';
import { driveScheme, finalAccuracies } from '../schemeLoop';
import { jsonLine, SETTING_FLAGS_USAGE, type TrainingOptions, trainConfigFrom } from '../trainingOptions';
import { UsageError } from '../usage';
import { teacherFrom } from './distill';

export const SCHEME_KINDS = ['born-again', 'mutual', 'online', 'assistant'] as const;
type SchemeKind = (typeof SCHEME_KINDS)[number];
const MULTI: Readonly<Record<string, MultiSchemeDef>> = { mutual: mutualScheme, online: onlineScheme };
const DEFAULT_MODELS: Readonly<Record<SchemeKind, string>> = {
  'born-again': 'cnn-small',
  mutual: 'cnn-small,cnn-small',
  online: 'vgg-fast,cnn-small',
  assistant: 'resnet8,cnn-small',
};
const roleOf = (id: string) => MODEL_PRESETS.find((p) => p.id === id)?.role;

export const SCHEME_USAGE = `npm run cli -- scheme --kind ${SCHEME_KINDS.join('|')} [--models a,b,...] [--generations G]
    [--teacher DIR] [--param name=value ...] [--ensemble] [--set ${PREPARED_SET_IDS.join('|')}] [--out DIR]
    [--backend wasm|cpu|webgpu] [--limit-steps N] ${SETTING_FLAGS_USAGE}
  npm run cli -- scheme --resume DIR [--teacher DIR] [--limit-steps N]
  Trains several models together or in sequence; one JSON line per logged step with every model's named terms
  under its name, one per epoch and stage, a final "done" line with each model's test accuracy; a checkpoint
  for every model in a sub-folder of --out (epoch ends, pauses, every 30 s, Ctrl-C).
    born-again: --models ONE_STUDENT (${DEFAULT_MODELS['born-again']}) --generations ${GENERATIONS.min}-${GENERATIONS.max} (${GENERATIONS.default}): generation 1 on
      labels, each next one KD (T 3, alpha 0.5) from the previous; --ensemble adds the generations' mean softmax.
    mutual: --models 2-4 presets (${DEFAULT_MODELS.mutual}): deep mutual learning, each CE + T^2 KL(other || own)
      averaged over the others; --param temperature=1 (default, the paper's), weight=1 (0: independent baseline).
    online: --models TEACHER,STUDENT (${DEFAULT_MODELS.online}), both from scratch: teacher CE; student 0.5 CE +
      0.5 T^2 KL (T 3) + 0.1 auxiliary-head CE (--param temperature, ce, kd, aux).
    assistant: --teacher DIR --models ASSISTANT,STUDENT (${DEFAULT_MODELS.assistant}): teacher -> assistant ->
      student, each KD (T 4, alpha 0.5), and the student from the teacher directly for as many steps.`;

export interface SchemeOptions extends TrainingOptions {
  kind?: string;
  models?: string;
  generations?: string;
  teacher?: string;
  param?: string[];
  ensemble?: boolean;
  resume?: string;
  'limit-steps'?: string;
}

/** A scheme's checkpoints in a folder: a sub-folder per model or stage, scheme.json beside them. */
export function folderSchemeStorage(dir: string): SchemeStorage {
  const manifest = join(dir, 'scheme.json');
  return {
    slot: (name) => folderSlot(join(dir, name)),
    readManifest: () =>
      access(manifest).then(
        () => readFile(manifest, 'utf8'),
        () => null,
      ),
    writeManifest: async (text) => {
      await mkdir(dir, { recursive: true });
      await writeFile(manifest, text);
    },
  };
}

function kindOf(kind: string | undefined): SchemeKind {
  if (!kind) throw new UsageError(`scheme needs --kind (one of ${SCHEME_KINDS.join(', ')})`);
  if (!(SCHEME_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`unknown scheme kind "${kind}"; kinds: ${SCHEME_KINDS.join(', ')}`);
  return kind as SchemeKind;
}

/** The --models list, each a known preset, the count and roles the kind takes. */
function modelsOf(kind: SchemeKind, text: string | undefined): string[] {
  const models = (text ?? DEFAULT_MODELS[kind]).split(',').map((m) => m.trim());
  for (const id of models)
    if (!roleOf(id))
      throw new UsageError(
        `unknown preset "${id}" in --models; presets: ${MODEL_PRESETS.map((p) => p.id).join(', ')}`,
      );
  const counts: Record<SchemeKind, [number, number]> = {
    'born-again': [1, 1],
    mutual: [2, 4],
    online: [2, 2],
    assistant: [2, 2],
  };
  const [min, max] = counts[kind];
  if (models.length < min || models.length > max)
    throw new UsageError(
      `--models for ${kind} takes ${min === max ? min : `${min} to ${max}`} preset${max > 1 ? 's' : ''}; got ${models.length} (${models.join(',')})`,
    );
  const wantStudent = (id: string, what: string) => {
    if (roleOf(id) !== 'student')
      throw new UsageError(`${what} must be a student preset; ${id} is a ${roleOf(id)} model`);
  };
  if (kind === 'born-again') wantStudent(models[0]!, 'the born-again preset');
  if (kind === 'online') {
    if (roleOf(models[0]!) !== 'teacher')
      throw new UsageError(
        `online's first model is the teacher; ${models[0]} is a ${roleOf(models[0]!)} model`,
      );
    wantStudent(models[1]!, "online's second model");
  }
  if (kind === 'assistant') {
    wantStudent(models[0]!, 'the assistant');
    wantStudent(models[1]!, 'the student');
  }
  return models;
}

function paramsOf(scheme: MultiSchemeDef, pairs: readonly string[] = []): ParamValues {
  const raw: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--param takes name=value; got "${pair}"`);
    raw[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  try {
    return validateParams(scheme, raw);
  } catch (error) {
    if (error instanceof MethodParamError) throw new UsageError(error.message);
    throw error;
  }
}

const config = (options: SchemeOptions, model: string, logEvery: number): TrainConfig => ({
  ...trainConfigFrom(options, { role: roleOf(model)!, model }),
  logEvery,
});

/** Member specs sharing epochs, batch, seed, augmentation and log interval (the last model's). */
function membersOf(
  kind: SchemeKind,
  models: readonly string[],
  options: SchemeOptions,
  logEvery: number,
): MemberSpec[] {
  const configs = models.map((m) => config(options, m, logEvery));
  const shared = configs.at(-1)!;
  const names = kind === 'online' ? ['teacher', 'student'] : models.map((_, i) => `student${i + 1}`);
  return configs.map((c, i) => ({
    name: names[i]!,
    config: {
      ...c,
      epochs: shared.epochs,
      batchSize: shared.batchSize,
      seed: shared.seed,
      augment: shared.augment,
    },
    initSeed: shared.seed + i,
  }));
}

export async function schemeCommand(options: SchemeOptions): Promise<number> {
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const limitSteps = limitStepsOf(options['limit-steps']);
  const kind = options.resume ? null : kindOf(options.kind);
  const models = kind ? modelsOf(kind, options.models) : [];
  if (kind !== 'born-again' && options.generations !== undefined)
    throw new UsageError('--generations is for --kind born-again');
  if (kind !== 'born-again' && options.ensemble) throw new UsageError('--ensemble is for --kind born-again');
  const generations =
    options.generations === undefined
      ? GENERATIONS.default
      : wholeNumber(options.generations, '--generations');
  if (generations < GENERATIONS.min || generations > GENERATIONS.max)
    throw new UsageError(
      `--generations must be between ${GENERATIONS.min} and ${GENERATIONS.max}; got ${generations}`,
    );
  const multi = kind ? MULTI[kind] : undefined;
  if (kind && !multi && options.param?.length)
    throw new UsageError(`--param is for --kind mutual or online; ${kind} uses the guide's KD values`);
  const params = multi ? paramsOf(multi, options.param) : {};
  if (kind === 'assistant' && !options.teacher)
    throw new UsageError(
      '--kind assistant needs --teacher DIR (model.json and weights.bin of a teacher preset)',
    );
  if (kind && kind !== 'assistant' && options.teacher)
    throw new UsageError(`--teacher is for --kind assistant; ${kind} trains from scratch`);
  const out = options.resume ?? options.out ?? `checkpoints/scheme-${kind}-${models.join('-')}`;
  // Every model's settings are checked before the backend starts (the engine's reasons).
  for (const model of models) config(options, model, 1);
  const backend = await startNodeBackend(options.backend as BackendName | undefined);
  const logEvery = logEveryFor(backend.backend);
  const members = kind && multi ? membersOf(kind, models, options, logEvery) : [];
  const teacher: RunTeacher | null = options.teacher ? await teacherFrom(options.teacher, set) : null;
  if (kind === 'assistant') checkChain(teacher!.preset, models[0]!, models[1]!);
  const dataset = await loadPreparedFromDisk(set);
  const storage = folderSchemeStorage(out);
  let run: MultiRun | StagedRun;
  try {
    if (options.resume) {
      const text = await storage.readManifest();
      if (!text) throw new Error(`${out}: no scheme.json here; not a scheme run's folder`);
      const manifest = JSON.parse(text) as {
        kind: string;
        teacher?: { preset: string; source: string } | null;
      };
      if (manifest.teacher && !teacher)
        throw new UsageError(
          `this ${manifest.kind} scheme distils from a ${manifest.teacher.preset} teacher (${manifest.teacher.source}); give it again with --teacher DIR`,
        );
      run = MULTI[manifest.kind]
        ? await MultiRun.restore(storage, dataset, Object.values(MULTI))
        : await StagedRun.restore(storage, dataset, teacher);
    } else if (multi) {
      run = await MultiRun.start({ scheme: multi, params, members }, dataset, storage);
    } else if (kind === 'born-again') {
      const stages = bornAgainStages(config(options, models[0]!, logEvery), generations);
      run = await StagedRun.start(kind, stages, dataset, null, storage, {
        ensemble: options.ensemble === true,
      });
    } else {
      const stages = assistantStages(
        config(options, models[0]!, logEvery),
        config(options, models[1]!, logEvery),
      );
      run = await StagedRun.start('assistant', stages, dataset, teacher, storage);
    }
  } catch (error) {
    teacher?.model.dispose();
    throw error;
  }
  try {
    const described =
      'members' in run
        ? run.members.map((m) => ({
            name: m.name,
            preset: m.config.model,
            parameters: m.model.countParams(),
            config: m.config,
          }))
        : run.stages.map((s) => ({
            name: s.name,
            preset: s.settings.train.model,
            method: s.settings.method,
            params: s.settings.params,
            teacher: s.teacher,
            config: s.settings.train,
          }));
    jsonLine({
      kind: 'start',
      scheme: 'members' in run ? run.spec.scheme.id : run.kind,
      backend: backend.backend,
      set,
      trainSize: dataset.train.count,
      testSize: dataset.test.count,
      ...('members' in run ? { params: run.spec.params } : {}),
      teacher: teacher ? { dir: teacher.source, preset: teacher.preset } : null,
      models: described,
      out,
    });
    const result = await driveScheme(run, { limitSteps, out });
    if (result.code !== 0) return result.code;
    const final = await finalAccuracies(run, dataset);
    let ensemble: number | undefined;
    if (!('members' in run) && run.extras.ensemble === true && result.finished)
      ensemble = await ensembleAccuracy(
        run.stages.map((s) => run.model(s.name)!),
        dataset.test,
      );
    jsonLine({
      kind: 'done',
      finished: result.finished,
      ...(limitSteps !== null && !result.finished ? { limitSteps } : {}),
      testAccuracy: final.testAccuracy,
      ...(teacher
        ? {
            teacherTestAccuracy: (await evaluateModel(teacher.model, dataset.test)).accuracy,
          }
        : {}),
      ...(ensemble !== undefined ? { ensembleTestAccuracy: ensemble } : {}),
      checkpoints: Object.fromEntries(Object.keys(final.testAccuracy).map((name) => [name, join(out, name)])),
      numTensors: final.numTensors,
    });
    return 0;
  } finally {
    run.dispose();
    teacher?.model.dispose();
  }
}
