/**
 * Which of the teacher's outputs a method reads (0 logits, 1 features, 2... stage maps), and those outputs as a
 * sparse array with holes where it reads none: the same on the in-line pass (methods/compose.ts) and on a teacher
 * run ahead on another thread (teacherAhead.ts), which sends back only these. The stage maps are most of a
 * pass's data (VGG-Fast at batch 64: ~16 MB against 2.6 kB of logits).
 */
import * as tf from '@tensorflow/tfjs';
import type { TeacherOutput } from './teacherAhead';

/**
 * The outputs a method reads, ascending: the logits always (the targets of unlabelled images) and what each
 * component declares (`undefined`: it reads every one of the `count` outputs).
 */
export function outputsRead(declared: readonly (readonly number[] | undefined)[], count: number): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  return [...new Set([0, ...declared.flatMap((d) => d ?? all)])].sort((a, b) => a - b);
}

/** `outputs` with only those at `indices` left (the rest are holes, freed with the enclosing tidy). */
export function onlyOutputs(outputs: readonly tf.Tensor[], indices: readonly number[]): tf.Tensor[] {
  const kept: tf.Tensor[] = [];
  for (const i of indices) kept[i] = outputs[i]!;
  return kept;
}

/** Throws, naming both, unless `outputs` holds a tensor exactly at `indices`. */
export function checkOutputs(outputs: readonly (tf.Tensor | undefined)[], indices: readonly number[]): void {
  const present = outputs.flatMap((t, i) => (t ? [i] : []));
  if (present.join() !== indices.join())
    throw new Error(
      `the batch came with teacher outputs ${present.join(', ')}; this method reads ${indices.join(', ')}`,
    );
}

/** Outputs sent from another thread as tensors at their model indices (a sparse array, as onlyOutputs makes). */
export function outputTensors(outputs: readonly TeacherOutput[]): tf.Tensor[] {
  const tensors: tf.Tensor[] = [];
  for (const { index, shape, values } of outputs) tensors[index] = tf.tensor(values, shape);
  return tensors;
}
