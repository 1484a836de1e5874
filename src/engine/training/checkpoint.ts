/**
 * Checkpoints in the standard tfjs layers-model format (model.json + weights.bin, loadable with
 * tf.loadLayersModel), plus the run's own files: optimizer.json/optimizer.bin (optimizer slots) and state.json
 * (settings, position, curves). Storage is a small interface, so Node (files) and the browser (IndexedDB)
 * share the format.
 */
import * as tf from '@tensorflow/tfjs';
import { CIFAR10_CLASSES } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { CIFAR10_MEAN, CIFAR10_STD } from './batches';
import type { TrainConfig } from './hyperparams';
import type { TrainerState } from './trainer';

export const CHECKPOINT_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.json',
  optimizerWeights: 'optimizer.bin',
  state: 'state.json',
} as const;

/** Where a checkpoint's files live: a folder in Node, an IndexedDB record in the browser. */
export interface CheckpointStore {
  write(files: Record<string, Uint8Array | string>): Promise<void>;
  read(name: string): Promise<Uint8Array>;
}

/** What model.json's userDefinedMetadata says about a Distillery model. */
export interface ModelMetadata {
  readonly preset: string;
  readonly role: 'teacher' | 'student';
  readonly classNames: readonly string[];
  /** Inputs are NHWC floats: (pixel / 255 - mean) / std per channel. */
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** Outputs in order; only logits matter for plain inference. */
  readonly outputs: readonly string[];
  /**
   * Top-1 on the test split of prepared sets, by set id ('embedded', 'full'), as measured when the model was
   * trained, evaluated or shipped: a teacher's accuracy shows at once instead of after a fresh measurement.
   */
  readonly testAccuracy?: Readonly<Record<string, number>>;
  /**
   * A teacher's anchors by prepared set id (1 per class by centrality of its features over the training split,
   * distill/anchors.ts). They depend only on the weights and the split, yet cost a teacher pass over every
   * training image, so the trust panel (u(x)) and AKD's set-up read them from here when they fit the split
   * (docs/design.md §6, "Stored anchors"). Written by `npm run cli -- anchors --teacher DIR --store`.
   */
  readonly anchors?: Readonly<Record<string, StoredAnchors>>;
}

/** A teacher's anchors on one training split: record indices class by class, and each one's centrality. */
export interface StoredAnchors {
  readonly indices: readonly number[];
  readonly centrality: readonly number[];
}

/** What a model's metadata carries beside its architecture: known accuracies and anchors, by set id. */
export interface KnownBySet {
  readonly testAccuracy?: Readonly<Record<string, number>>;
  readonly anchors?: Readonly<Record<string, StoredAnchors>>;
}

export interface RunState {
  readonly format: 'distillery-run';
  readonly version: 1;
  readonly config: TrainConfig;
  readonly state: TrainerState;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const toBytes = (data: tf.io.WeightData): Uint8Array =>
  new Uint8Array(tf.io.CompositeArrayBuffer.join(data as ArrayBuffer | ArrayBuffer[]));

export function modelMetadata(
  model: tf.LayersModel,
  preset: string,
  role: 'teacher' | 'student',
  { testAccuracy, anchors }: KnownBySet = {},
): ModelMetadata {
  return {
    preset,
    role,
    classNames: CIFAR10_CLASSES,
    normalization: { mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] },
    outputs: model.outputs.map((o) => o.name.split('/')[0]!),
    ...(testAccuracy && Object.keys(testAccuracy).length ? { testAccuracy } : {}),
    ...(anchors && Object.keys(anchors).length ? { anchors } : {}),
  };
}

/** A stored accuracy map, with values that are not proportions (a hand-edited model.json) left out. */
export function storedAccuracies(metadata: ModelMetadata | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, value] of Object.entries(metadata?.testAccuracy ?? {}))
    if (typeof value === 'number' && value >= 0 && value <= 1) out[id] = value;
  return out;
}

/**
 * Stored anchors that are well-formed (record indices: whole numbers from 0; a finite centrality each), by set
 * id; anything else (a hand-edited model.json) is left out. Whether they fit a split is checked where they are
 * used (anchorsFit).
 */
export function storedAnchors(metadata: ModelMetadata | null): Record<string, StoredAnchors> {
  const out: Record<string, StoredAnchors> = {};
  const stored: unknown = metadata?.anchors;
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return out;
  for (const [id, entry] of Object.entries(stored as Record<string, unknown>)) {
    const { indices, centrality } = (entry ?? {}) as Record<string, unknown>;
    if (
      Array.isArray(indices) &&
      Array.isArray(centrality) &&
      indices.length > 0 &&
      centrality.length === indices.length &&
      indices.every((i) => Number.isInteger(i) && (i as number) >= 0) &&
      centrality.every((c) => typeof c === 'number' && Number.isFinite(c))
    )
      out[id] = { indices: indices as number[], centrality: centrality as number[] };
  }
  return out;
}

/** model.json + weights.bin of a model, in the format tf.loadLayersModel reads. */
export async function modelFiles(
  model: tf.LayersModel,
  metadata: ModelMetadata,
): Promise<Record<string, Uint8Array | string>> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightData || !artifacts.weightSpecs)
    throw new Error('the model produced no weights to save');
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [CHECKPOINT_FILES.weights], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { distillery: metadata },
  };
  return {
    [CHECKPOINT_FILES.model]: JSON.stringify(json),
    [CHECKPOINT_FILES.weights]: toBytes(artifacts.weightData),
  };
}

export async function saveCheckpoint(
  store: CheckpointStore,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  run: Omit<RunState, 'format' | 'version'>,
): Promise<void> {
  const files = await modelFiles(model, modelMetadata(model, run.config.model, run.config.role));
  const slots = await optimizer.getWeights();
  const encoded = await tf.io.encodeWeights(slots);
  // getWeights() returns the optimizer's own slot variables plus a fresh 'iter' scalar, which is ours to free.
  tf.dispose(slots.filter((slot) => !(slot.tensor instanceof tf.Variable)).map((slot) => slot.tensor));
  files[CHECKPOINT_FILES.optimizer] = JSON.stringify({
    className: optimizer.getClassName(),
    specs: encoded.specs,
  });
  files[CHECKPOINT_FILES.optimizerWeights] = toBytes(encoded.data);
  const state: RunState = { format: 'distillery-run', version: 1, ...run };
  files[CHECKPOINT_FILES.state] = JSON.stringify(state);
  await store.write(files);
}

export interface LoadedModel {
  readonly model: tf.LayersModel;
  readonly metadata: ModelMetadata | null;
}

/** Reads model.json + weights.bin; `name` (a path or file name) is used in error messages. */
export async function loadModel(
  modelJson: Uint8Array,
  weights: Uint8Array,
  name = 'model.json',
): Promise<LoadedModel> {
  let json: {
    modelTopology?: unknown;
    weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[];
    userDefinedMetadata?: { distillery?: ModelMetadata };
  };
  try {
    json = JSON.parse(decoder.decode(modelJson));
  } catch (error) {
    throw new Error(`${name}: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${name}: not a tfjs layers model (no modelTopology or weightsManifest)`);
  }
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const expectedBytes = weightSpecs.reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weights.byteLength !== expectedBytes) {
    throw new Error(
      `${name}: its weights file has ${weights.byteLength.toLocaleString('en-US')} bytes, the manifest needs ${expectedBytes.toLocaleString('en-US')}`,
    );
  }
  const weightData = weights.slice().buffer;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'],
      weightSpecs,
      weightData,
    }),
  );
  return { model, metadata: json.userDefinedMetadata?.distillery ?? null };
}

/**
 * Checks that a loaded model has the architecture of a preset (same weight shapes, in order); the message
 * names the first mismatch.
 */
export function checkArchitecture(model: tf.LayersModel, presetId: string, name = 'model.json'): void {
  const reference = findPreset(presetId).build(0);
  try {
    const expected = reference.weights.map((w) => w.shape);
    const actual = model.weights.map((w) => w.shape);
    if (model.outputs.length !== reference.outputs.length) {
      throw new Error(
        `${name}: has ${model.outputs.length} outputs, the ${presetId} preset has ${reference.outputs.length} (logits, features, stages)`,
      );
    }
    if (actual.length !== expected.length) {
      throw new Error(
        `${name}: has ${actual.length} weight tensors, the ${presetId} preset has ${expected.length}`,
      );
    }
    actual.forEach((shape, i) => {
      if (JSON.stringify(shape) !== JSON.stringify(expected[i])) {
        throw new Error(
          `${name}: weight ${i + 1} (${model.weights[i]!.name}) has shape [${shape.join(', ')}], the ${presetId} preset expects [${expected[i]!.join(', ')}]`,
        );
      }
    });
  } finally {
    reference.dispose();
  }
}

export interface LoadedRun {
  readonly model: tf.LayersModel;
  readonly run: RunState;
  readonly optimizerSlots: { name: string; tensor: tf.Tensor }[];
}

/** Reads a whole checkpoint (model, optimizer slots, run state) for resuming. */
export async function loadCheckpoint(store: CheckpointStore): Promise<LoadedRun> {
  const run = JSON.parse(decoder.decode(await store.read(CHECKPOINT_FILES.state))) as RunState;
  if (run.format !== 'distillery-run')
    throw new Error(`${CHECKPOINT_FILES.state}: not a Distillery run state`);
  const { model } = await loadModel(
    await store.read(CHECKPOINT_FILES.model),
    await store.read(CHECKPOINT_FILES.weights),
  );
  checkArchitecture(model, run.config.model);
  const optimizerJson = JSON.parse(decoder.decode(await store.read(CHECKPOINT_FILES.optimizer))) as {
    specs: tf.io.WeightsManifestEntry[];
  };
  const slotBytes = await store.read(CHECKPOINT_FILES.optimizerWeights);
  const decoded = tf.io.decodeWeights(slotBytes.slice().buffer, optimizerJson.specs);
  const optimizerSlots = optimizerJson.specs.map((spec) => ({
    name: spec.name,
    tensor: decoded[spec.name]!,
  }));
  return { model, run, optimizerSlots };
}

export const textFile = (text: string): Uint8Array => encoder.encode(text);
