/**
 * Teacher files made here, in the test runner, from a preset (seeded random weights): what a user would import
 * through the Teacher panel. The same engine code writes them as the lab's own download (tfjs format).
 */
import * as tf from '@tensorflow/tfjs';
import { findPreset } from '../src/engine/models/presets';
import { modelFiles, modelMetadata } from '../src/engine/training/checkpoint';

export interface UploadFile {
  readonly name: string;
  readonly mimeType: string;
  readonly buffer: Buffer;
}

const made = new Map<string, Promise<UploadFile[]>>();

async function make(preset: string): Promise<UploadFile[]> {
  await tf.setBackend('cpu');
  const model = findPreset(preset).build(11);
  try {
    const files = await modelFiles(model, modelMetadata(model, preset, 'teacher'));
    return Object.entries(files).map(([name, data]) => ({
      name,
      mimeType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      buffer: Buffer.from(data),
    }));
  } finally {
    model.dispose();
  }
}

/** model.json + weights.bin of a teacher preset, made once per preset. */
export function teacherFiles(preset = 'vgg-fast'): Promise<UploadFile[]> {
  if (!made.has(preset)) made.set(preset, make(preset));
  return made.get(preset)!;
}
