/**
 * `npm run cli -- anchors`: the anchor gallery from a terminal. The teacher's anchors by AKD's rule (the same
 * AnchorExplorer the Worker uses), and with --run an AKD distillation checkpoint's own anchors and how far its
 * masks moved; --png writes the contact sheet (per anchor: image, mask heatmap over it, masked image).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { AnchorExplorer, type AnchorGalleryView } from '../../engine/distill/anchorGallery';
import type { AnchorSet } from '../../engine/distill/anchors';
import type { AnchorMasks } from '../../engine/distill/method';
import { decodeMethodCheckpoint, METHOD_FILES } from '../../engine/distill/methodCheckpoint';
import { findMethod } from '../../engine/distill/registry';
import { CHECKPOINT_FILES, type ModelMetadata, type StoredAnchors } from '../../engine/training/checkpoint';
import { loadTeacher } from '../../engine/training/labModels';
import { maskedRgba, overlayRgba, scaleOf } from '../../engine/config/anchorPixels';
import { folderStore } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { UsageError } from '../usage';

export const ANCHORS_USAGE = `npm run cli -- anchors --teacher DIR [--run DIR] [--per-class N] [--set ${PREPARED_SET_IDS.join('|')}]
    [--png FILE] [--json] [--store] [--backend wasm|cpu|webgpu]
  AKD's anchors of a teacher (DIR: model.json + weights.bin): per class the N most central training images by
  the teacher's features (default 1). Prints one JSON object: indices, classes, centrality (and class names).
  --run DIR (a distill checkpoint of a method with anchor masks: akd, akd+kd, akd+crd): that run's anchors and,
  per mask, its mean, min, max and mean |m - 1|. --png FILE: the contact sheet (image, mask over it, masked image
  per row). --json: the JSON on one line. --store: write the anchors (1 per class) into the teacher's model.json
  metadata for this set, so that the trust panel and \`ood\` need no pass over the training split to find them.`;

export interface AnchorsOptions {
  teacher?: string;
  run?: string;
  'per-class'?: string;
  set?: string;
  png?: string;
  json?: boolean;
  store?: boolean;
  backend?: string;
}

/**
 * Writes `anchors` as the teacher's stored anchors for `set` into DIR/model.json (ModelMetadata.anchors), the rest
 * of the file as it was; the new file replaces the old one whole.
 */
async function storeAnchors(dir: string, set: string, anchors: StoredAnchors): Promise<void> {
  const path = join(dir, CHECKPOINT_FILES.model);
  const json = JSON.parse(await readFile(path, 'utf8')) as {
    userDefinedMetadata?: { distillery?: ModelMetadata };
  };
  const metadata = json.userDefinedMetadata?.distillery;
  if (!metadata) throw new Error(`${path}: has no Distillery metadata to store anchors in`);
  json.userDefinedMetadata!.distillery = {
    ...metadata,
    anchors: { ...metadata.anchors, [set]: anchors },
  };
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(json));
  await rename(partial, path);
}

/** An AKD run's anchors and masks from its checkpoint folder; refuses other folders and methods by name. */
async function runMasks(
  dir: string,
): Promise<{ method: string; perClass: number; read: AnchorMasks | null; indices: number[] | null }> {
  const store = folderStore(dir);
  const json = await store.read(METHOD_FILES.json).catch(() => {
    throw new Error(`${dir}: not a distillation checkpoint (no ${METHOD_FILES.json})`);
  });
  const { checkpoint, state } = decodeMethodCheckpoint(json, await store.read(METHOD_FILES.bin));
  const method = findMethod(checkpoint.method);
  if (!method.learnsAnchorMasks)
    throw new Error(
      `${dir}: a ${checkpoint.method} run, which has no anchors or masks (akd, akd+kd and akd+crd have)`,
    );
  const maskKey = Object.keys(state).find((k) => /(^|\/)masks$/.test(k));
  const masks = maskKey ? state[maskKey]! : null;
  if (!masks || masks.shape.length !== 4 || masks.shape[1] !== masks.shape[2] || masks.shape[3] !== 1)
    throw new Error(`${dir}/${METHOD_FILES.json}: has no [anchors, size, size, 1] masks`);
  const anchorKey = Object.keys(state).find((k) => /(^|\/)anchors$/.test(k));
  const perClassKey = Object.keys(checkpoint.params).find((k) => /(^|\.)anchorsPerClass$/.test(k));
  return {
    method: checkpoint.method,
    perClass: perClassKey ? checkpoint.params[perClassKey]! : 1,
    indices: anchorKey ? Array.from(state[anchorKey]!.values) : null,
    read: {
      anchors: { indices: [], classes: [], centrality: [], classSizes: [] },
      size: masks.shape[1]!,
      masks: masks.values,
    },
  };
}

/** The contact sheet: per anchor a row of image | mask over image | masked image, each 32x32 scaled x3. */
function contactSheet(view: AnchorGalleryView): Uint8Array {
  const zoom = 3;
  const cell = 32 * zoom;
  const gap = 4;
  const width = 3 * cell + 2 * gap;
  const height = view.anchors.length * (cell + gap);
  const pixels = new Uint8Array(width * height * 4).fill(255);
  const masks = view.anchors.map((a) => a.mask);
  const scale = scaleOf(masks);
  view.anchors.forEach((anchor, row) => {
    const mask = anchor.mask ?? new Float32Array(32 * 32).fill(1);
    const tiles = [
      anchor.rgba,
      overlayRgba(anchor.rgba, mask, scale, 0.6),
      maskedRgba(anchor.rgba, mask, view.meanRgb),
    ];
    tiles.forEach((rgba, k) => {
      for (let y = 0; y < cell; y++)
        for (let x = 0; x < cell; x++) {
          const from = (Math.floor(y / zoom) * 32 + Math.floor(x / zoom)) * 4;
          const to = ((row * (cell + gap) + y) * width + k * (cell + gap) + x) * 4;
          for (let c = 0; c < 4; c++) pixels[to + c] = rgba[from + c]!;
        }
    });
  });
  return encodePng({ width, height, data: pixels, channels: 4, depth: 8 });
}

export async function anchorsCommand(options: AnchorsOptions): Promise<string> {
  if (!options.teacher)
    throw new UsageError('anchors needs --teacher DIR (a folder with model.json and weights.bin)');
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const perClassText = options['per-class'];
  const asked = perClassText === undefined ? null : Number(perClassText);
  if (asked !== null && !(Number.isInteger(asked) && asked >= 1 && asked <= 50))
    throw new Error(`--per-class must be a whole number from 1 to 50; got "${perClassText}"`);
  // The run is read (and refused) before the backend starts or any data is read.
  const run = options.run ? await runMasks(options.run) : null;
  if (options.store && (run || (asked ?? 1) !== 1))
    throw new UsageError(
      "--store keeps a teacher's own anchors, 1 per class: leave out --run and --per-class",
    );
  if (run && asked !== null && asked !== run.perClass)
    throw new Error(
      `--per-class ${asked} differs from the run's ${run.perClass} anchors per class; leave it out with --run`,
    );
  await startNodeBackend(options.backend as BackendName | undefined);
  const store = folderStore(options.teacher);
  const teacher = await loadTeacher(
    await store.read(CHECKPOINT_FILES.model),
    await store.read(CHECKPOINT_FILES.weights),
    join(options.teacher, CHECKPOINT_FILES.model),
  );
  try {
    const dataset = await loadPreparedFromDisk(set);
    const classes = teacher.model.outputs[0]!.shape[1] as number;
    if (classes !== dataset.classNames.length)
      throw new Error(
        `${options.teacher}: the teacher has ${classes} classes, the ${set} set ${dataset.classNames.length}`,
      );
    const explorer = new AnchorExplorer(dataset.classNames);
    await explorer.prepare(teacher.model, dataset.train, 'fixed');
    const anchors: AnchorSet = explorer.anchors(run?.perClass ?? asked ?? 1);
    if (run?.indices && run.indices.join() !== anchors.indices.join())
      throw new Error(
        `${options.run}: its anchors (${run.indices.join(', ')}) are not this teacher's on the ${set} set (${anchors.indices.join(', ')}): it was distilled from another teacher or data set`,
      );
    const read = run?.read ? { ...run.read, anchors } : null;
    if (read && read.masks.length !== anchors.indices.length * read.size * read.size)
      throw new Error(
        `${options.run}: has masks for ${read.masks.length / (read.size * read.size)} anchors, the teacher gives ${anchors.indices.length}`,
      );
    const view = explorer.view(dataset.train, anchors, run ? `${run.method} run` : 'teacher', read);
    const result = {
      teacher: { dir: options.teacher, preset: teacher.preset },
      set,
      perClass: run?.perClass ?? asked ?? 1,
      indices: anchors.indices,
      classes: anchors.classes,
      classNames: anchors.classes.map((c) => dataset.classNames[c] ?? String(c)),
      centrality: anchors.centrality,
      ...(run
        ? { run: { dir: options.run, method: run.method }, masks: view.anchors.map((a) => a.maskStats) }
        : {}),
      ...(options.png ? { png: options.png } : {}),
      ...(options.store ? { stored: join(options.teacher, CHECKPOINT_FILES.model) } : {}),
    };
    if (options.png) await writeFile(options.png, contactSheet(view));
    if (options.store)
      await storeAnchors(options.teacher, set, { indices: anchors.indices, centrality: anchors.centrality });
    return JSON.stringify(result, null, options.json ? undefined : 2);
  } finally {
    teacher.model.dispose();
  }
}
