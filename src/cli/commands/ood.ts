/**
 * `npm run cli -- ood`: the trust panel's numbers for one saved model, from a terminal (the same OodLab the
 * Worker runs): OoD detection per set and score, calibration, misclassification detection, and with --scores
 * every image's scores. Anchors for u(x): an AKD checkpoint's own (its method state), else the teacher's by
 * the same rule (--teacher, or the checkpoint itself when it is a teacher).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { anchorsFit } from '../../engine/distill/anchors';
import { decodeMethodCheckpoint, METHOD_FILES } from '../../engine/distill/methodCheckpoint';
import { OodLab, type OodModel, selectByRule } from '../../engine/ood/oodLab';
import { isBuiltInOodSet, BUILT_IN_OOD_SETS } from '../../engine/ood/oodSets';
import { OOD_SCORES } from '../../engine/ood/scoreImages';
import {
  checkArchitecture,
  CHECKPOINT_FILES,
  loadModel,
  storedAnchors,
} from '../../engine/training/checkpoint';
import { cachedAnchors, weightsDigest } from '../anchorsCache';
import { folderStore } from '../checkpointDir';
import { loadPreparedFromDisk, PREPARED_DATA_DIR } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { UsageError } from '../usage';

export const OOD_USAGE = `npm run cli -- ood --checkpoint DIR [--teacher DIR] [--ood ${BUILT_IN_OOD_SETS.join('|')}|FILE ...]
    [--set ${PREPARED_SET_IDS.join('|')}] [--scores FILE.json] [--json] [--backend wasm|cpu|webgpu] [--anchors-cache FILE]
  Out-of-distribution detection and calibration of a saved model (DIR: model.json + weights.bin) against the
  test split: per OoD set and score (msp, entropy, energy, anchorU) AUROC, AUPR and FPR95; accuracy and 15-bin
  ECE; misclassification AUROC per score. --ood FILE: a CIFAR-binary .bin, a .zip of PNG/JPEG images or an
  image (default: mnist). Anchors for anchorU: an AKD checkpoint's own, else 1 per class by the teacher's
  features (--teacher DIR; a teacher checkpoint is its own). --scores writes every image's scores as JSON.
  --json: one JSON line per result instead of the table. --anchors-cache FILE: keep the teacher's anchor choice
  there and reuse it while the teacher's weights and the training split are the same (for grids of students).`;

export interface OodOptions {
  checkpoint?: string;
  teacher?: string;
  ood?: string[];
  set?: string;
  scores?: string;
  json?: boolean;
  backend?: string;
  'anchors-cache'?: string;
}

async function loadCheckpoint(dir: string) {
  const store = folderStore(dir);
  const name = join(dir, CHECKPOINT_FILES.model);
  const { model, metadata } = await loadModel(
    await store.read(CHECKPOINT_FILES.model),
    await store.read(CHECKPOINT_FILES.weights),
    name,
  );
  try {
    if (!metadata)
      throw new Error(`${name}: has no Distillery metadata (preset and role); save it with this lab`);
    checkArchitecture(model, metadata.preset, name);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, preset: metadata.preset, role: metadata.role, storedAnchors: storedAnchors(metadata) };
}

/** A distill checkpoint's own anchors (the method state's `anchors` array), or null when it has none. */
async function ownAnchors(dir: string): Promise<number[] | null> {
  let json: Uint8Array;
  try {
    json = new Uint8Array(await readFile(join(dir, METHOD_FILES.json)));
  } catch {
    return null; // not a distillation checkpoint
  }
  const bin = new Uint8Array(await readFile(join(dir, METHOD_FILES.bin)));
  const { state } = decodeMethodCheckpoint(json, bin);
  const key = Object.keys(state).find((k) => k === 'anchors' || /[/.]anchors$/.test(k));
  return key ? Array.from(state[key]!.values) : null;
}

export async function oodCommand(options: OodOptions): Promise<string> {
  if (!options.checkpoint) throw new UsageError('ood needs --checkpoint DIR');
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const oodArgs = options.ood?.length ? options.ood : ['mnist'];
  // Files are read before the backend starts: an unreadable one is refused at once, by name.
  const files = await Promise.all(
    oodArgs
      .filter((arg) => !isBuiltInOodSet(arg))
      .map(async (path) => {
        try {
          return { path, bytes: new Uint8Array(await readFile(path)) };
        } catch (error) {
          throw new Error(
            `--ood ${path}: not one of ${BUILT_IN_OOD_SETS.join(', ')}, and not a readable file (${(error as NodeJS.ErrnoException).code ?? error})`,
            { cause: error },
          );
        }
      }),
  );
  const backend = await startNodeBackend(options.backend as BackendName | undefined);
  const lab = new OodLab(async (path) => new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path))));
  const setIds = new Map<string, string>(); // id -> name in the output
  for (const arg of oodArgs) if (isBuiltInOodSet(arg)) setIds.set(arg, arg);
  for (const { path, bytes } of files) {
    const added = lab.addUpload([{ name: basename(path), bytes }]);
    setIds.set(added.id, basename(path));
  }

  const checkpoint = await loadCheckpoint(options.checkpoint);
  let teacherModel: tf.LayersModel | null = null;
  // The anchor chooser's stored anchors by set id (the teacher's, or a teacher checkpoint's own).
  let chooserAnchors = checkpoint.storedAnchors;
  try {
    const anchors = await ownAnchors(options.checkpoint);
    if (options.teacher) {
      const loaded = await loadCheckpoint(options.teacher);
      teacherModel = loaded.model;
      chooserAnchors = loaded.storedAnchors;
      if (loaded.role !== 'teacher')
        throw new Error(`${options.teacher}: is a ${loaded.preset} ${loaded.role}, not a teacher`);
      const classes = (m: tf.LayersModel) => m.outputs[0]!.shape[1];
      if (classes(loaded.model) !== classes(checkpoint.model))
        throw new Error(
          `${options.teacher}: has ${classes(loaded.model)} classes, the checkpoint ${classes(checkpoint.model)}; they do not match`,
        );
    } else if (checkpoint.role !== 'teacher' && !anchors) {
      throw new Error(
        `${options.checkpoint}: is a ${checkpoint.preset} student without anchors of its own; give --teacher DIR to pick them`,
      );
    }
    const dataset = await loadPreparedFromDisk(set);
    if (anchors && anchors.some((i) => !(Number.isInteger(i) && i >= 0 && i < dataset.train.count)))
      throw new Error(
        `${options.checkpoint}: its anchors index records beyond the ${dataset.train.count.toLocaleString('en-US')} training images of --set ${set}; use the set it was distilled on`,
      );
    const model: OodModel = {
      key: 'checkpoint',
      label: options.checkpoint,
      role: checkpoint.role,
      model: checkpoint.model,
      ownAnchors: anchors,
    };
    const teacher: OodModel | null = teacherModel
      ? { key: 'teacher', label: options.teacher!, role: 'teacher', model: teacherModel, ownAnchors: null }
      : checkpoint.role === 'teacher'
        ? model
        : null;
    const stored = chooserAnchors[set];
    if (teacher && stored && anchorsFit(stored, dataset.train))
      lab.knowAnchors(teacher, dataset.id, stored.indices, 'stored');
    const result = await lab.run(
      { models: [model.key], sets: [...setIds.keys()] },
      teacher && teacher !== model ? [model, teacher] : [model],
      teacher,
      dataset,
      () => undefined,
      () => Promise.resolve(),
      options['anchors-cache'] && options.teacher
        ? cachedAnchors(
            options['anchors-cache'],
            await weightsDigest(await folderStore(options.teacher).read(CHECKPOINT_FILES.weights)),
            selectByRule,
          )
        : undefined,
    );
    if (!result) throw new Error('the analysis was cancelled');
    const nameOf = (id: string) => setIds.get(id) ?? id;
    const [modelResult] = result.models;
    const lines: Record<string, unknown>[] = [
      ...result.rows.map((r) => ({
        kind: 'ood',
        set: nameOf(r.set),
        score: r.score,
        auroc: r.auroc,
        aupr: r.aupr,
        fpr95: r.fpr95,
      })),
      { kind: 'calibration', accuracy: modelResult!.accuracy, ece: modelResult!.ece },
      ...OOD_SCORES.map((score) => ({
        kind: 'misclassification',
        score,
        auroc: modelResult!.misclassification[score],
      })),
      ...(modelResult!.fidelity ? [{ kind: 'fidelity', ...modelResult!.fidelity }] : []),
      {
        kind: 'summary',
        checkpoint: options.checkpoint,
        model: checkpoint.preset,
        set,
        testCount: result.testCount,
        sets: result.sets.map((s) => ({ name: nameOf(s.id), count: s.count })),
        anchors: modelResult!.anchors,
        backend: backend.backend,
        seconds: result.seconds,
      },
    ];
    if (options.scores) {
      const scoresOf = (id: string) => {
        const outputs = lab.outputsOf(model, dataset, id)!;
        return Object.fromEntries(OOD_SCORES.map((s) => [s, Array.from(outputs.scores[s])]));
      };
      const all = {
        id: scoresOf('test'),
        ood: Object.fromEntries([...setIds.keys()].map((id) => [nameOf(id), scoresOf(id)])),
      };
      await writeFile(options.scores, JSON.stringify(all));
    }
    if (options.json) return lines.map((l) => JSON.stringify(l)).join('\n');
    return formatTable(lines);
  } finally {
    checkpoint.model.dispose();
    teacherModel?.dispose();
  }
}

const f = (v: unknown, digits = 4) => (typeof v === 'number' ? v.toFixed(digits) : String(v));

function formatTable(lines: Record<string, unknown>[]): string {
  const out: string[] = ['set        score     AUROC   AUPR    FPR95'];
  for (const l of lines.filter((x) => x.kind === 'ood'))
    out.push(
      `${String(l.set).padEnd(10)} ${String(l.score).padEnd(9)} ${f(l.auroc)}  ${f(l.aupr)}  ${f(l.fpr95)}`,
    );
  const calib = lines.find((x) => x.kind === 'calibration')!;
  out.push('', `accuracy ${f(calib.accuracy)}   ECE (15 bins) ${f(calib.ece)}`);
  out.push(
    `misclassification AUROC: ${lines
      .filter((x) => x.kind === 'misclassification')
      .map((x) => `${String(x.score)} ${f(x.auroc)}`)
      .join(', ')}`,
  );
  const fid = lines.find((x) => x.kind === 'fidelity');
  if (fid)
    out.push(`fidelity: top-1 agreement ${f(fid.agreement)}, mean KL(teacher || student) ${f(fid.meanKl)}`);
  const summary = lines.find((x) => x.kind === 'summary')!;
  out.push(`anchors: ${String(summary.anchors)}; ${f(summary.seconds, 1)} s on ${String(summary.backend)}`);
  return out.join('\n');
}
