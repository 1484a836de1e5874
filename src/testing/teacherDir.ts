/**
 * Test helper: a teacher folder as the lab downloads one (model.json + weights.bin in the tfjs format, with
 * the lab's metadata), made from a preset's seeded random weights, for CLI tests that need `--teacher DIR`.
 */
import { initBackend } from '../engine/backend/initBackend';
import { findPreset } from '../engine/models/presets';
import { modelFiles, modelMetadata } from '../engine/training/checkpoint';
import { folderStore } from '../cli/checkpointDir';

/** Writes `preset` (default resnet20, the cheapest teacher) with seed `seed` into `dir`; returns `dir`. */
export async function writeRandomTeacher(dir: string, preset = 'resnet20', seed = 4): Promise<string> {
  await initBackend('cpu');
  const teacher = findPreset(preset).build(seed);
  await folderStore(dir).write(await modelFiles(teacher, modelMetadata(teacher, preset, 'teacher')));
  teacher.dispose();
  return dir;
}
