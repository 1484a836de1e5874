/**
 * The lab's models outside a training run: what each preset costs, exporting a model in the tfjs format,
 * loading a teacher from files, and measuring accuracy without holding the host's event loop for long.
 */
import type * as tf from '@tensorflow/tfjs';
import { IMAGE_BYTES, type ImageSplit } from '../data/cifar10';
import { flopsPerImage, MODEL_PRESETS, type ModelRole } from '../models/presets';
import {
  checkArchitecture,
  type KnownBySet,
  loadModel,
  modelFiles,
  modelMetadata,
  storedAccuracies,
  type StoredAnchors,
  storedAnchors,
} from './checkpoint';
import { evaluateModel } from './trainer';
import type { YieldToHost } from '../run/runTypes';

/** A preset as the UI shows it: plain numbers, so the UI needs no tfjs. */
export interface PresetInfo {
  readonly id: string;
  readonly role: ModelRole;
  readonly label: string;
  readonly description: string;
  readonly parameters: number;
  readonly flopsPerImage: number;
}

/** Builds each preset once to count its parameters and FLOPs. */
export function presetInfos(): PresetInfo[] {
  return MODEL_PRESETS.map(({ id, role, label, description, build }) => {
    const model = build(0);
    try {
      return {
        id,
        role,
        label,
        description,
        parameters: model.countParams(),
        flopsPerImage: flopsPerImage(model),
      };
    } finally {
      model.dispose();
    }
  });
}

/** A file to hand to the user: name and bytes. */
export interface NamedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/**
 * model.json + weights.bin, loadable with tf.loadLayersModel and by this lab's teacher import; known test
 * accuracies and a teacher's anchors (by prepared set id) travel in its metadata.
 */
export async function exportModel(
  model: tf.LayersModel,
  preset: string,
  role: ModelRole,
  known: KnownBySet = {},
): Promise<NamedFile[]> {
  const files = await modelFiles(model, modelMetadata(model, preset, role, known));
  return Object.entries(files).map(([name, data]) => ({
    name,
    bytes: typeof data === 'string' ? new TextEncoder().encode(data) : data,
  }));
}

const teacherPresetIds = () => MODEL_PRESETS.filter((p) => p.role === 'teacher').map((p) => p.id);

/**
 * Reads a teacher from model.json + weights bytes and checks it has a teacher preset's architecture: the one
 * its metadata names, or, for a model without Distillery metadata, any teacher preset whose shapes it has.
 * Every refusal names the file and the mismatch; a refused model is disposed.
 */
export async function loadTeacher(
  modelJson: Uint8Array,
  weights: Uint8Array,
  name: string,
): Promise<{
  model: tf.LayersModel;
  preset: string;
  testAccuracy: Record<string, number>;
  anchors: Record<string, StoredAnchors>;
}> {
  const { model, metadata } = await loadModel(modelJson, weights, name);
  const testAccuracy = storedAccuracies(metadata);
  const anchors = storedAnchors(metadata);
  try {
    const teachers = teacherPresetIds();
    if (metadata) {
      if (!teachers.includes(metadata.preset)) {
        const role = MODEL_PRESETS.find((p) => p.id === metadata.preset)?.role ?? 'unknown';
        throw new Error(
          `${name}: is a ${metadata.preset} model (${role}); a teacher must be one of ${teachers.join(', ')}`,
        );
      }
      checkArchitecture(model, metadata.preset, name);
      return { model, preset: metadata.preset, testAccuracy, anchors };
    }
    const mismatches: string[] = [];
    for (const preset of teachers) {
      try {
        checkArchitecture(model, preset, name);
        return { model, preset, testAccuracy, anchors };
      } catch (error) {
        mismatches.push((error as Error).message.replace(`${name}: `, ''));
      }
    }
    throw new Error(`${name}: matches no teacher preset (${mismatches.join('; ')})`);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Top-1 accuracy on a split, a slice at a time with a yield between slices, so a long evaluation (a teacher
 * on 10,000 test images) does not keep a pause or another request waiting until it ends. NaN for no images.
 */
export async function accuracyInSlices(
  model: tf.LayersModel,
  split: ImageSplit,
  yieldToHost: YieldToHost,
  sliceSize = 250,
): Promise<number> {
  // (A host that wants to cancel throws from yieldToHost: the slice in hand is dropped with its tensors freed.)
  if (split.count === 0) return Number.NaN;
  let correct = 0;
  for (let start = 0; start < split.count; start += sliceSize) {
    const end = Math.min(split.count, start + sliceSize);
    const slice: ImageSplit = {
      images: split.images.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES),
      labels: split.labels.subarray(start, end),
      count: end - start,
    };
    correct += (await evaluateModel(model, slice, sliceSize)).correct;
    await yieldToHost();
  }
  return correct / split.count;
}
