/**
 * Whether a distillation runs its teacher ahead on a thread of its own, and where that thread's core comes from
 * (docs/design.md §5, "The teacher ahead"). Single-threaded wasm leaves a core free. A threaded wasm pool has
 * every core, so the student's pool gives up one thread (wasmPool.ts) where the teacher is worth a core. GPU
 * backends run the teacher on the GPU, where it is cheap already.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { wasmThreadsInUse } from '../backend/wasmThreads';
import { narrowWasmPool } from '../backend/wasmPool';
import { flopsPerImage } from '../models/presets';

/**
 * Pools up to this many threads give one to the teacher. The teacher's Worker runs on one thread; with more
 * cores the student's pool would finish its step first and wait for it (not measured: this project's machine
 * has 2 cores).
 */
export const MAX_THREADS_LENDING = 4;

/**
 * A threaded pool gives a thread to the teacher where the teacher's forward pass has at least this many times
 * the student's forward FLOPs per image. cnn-small from VGG-Fast, ratio 5.4: KD 76 -> 52 ms per step on 2 cores
 * with the thread lent (docs/benchmarks.md, sixth session). ResNet-8 from VGG-Fast, ratio 1.2: set when its
 * single-threaded step with the teacher ahead lost to 2 threads with the teacher in line (268 against 247 ms);
 * with the sixth session's kernels it wins (206 against 219), so a lower ratio may pay: not yet measured lent.
 */
export const MIN_TEACHER_FLOPS_RATIO = 2;

/**
 * A core for the teacher's host: the function that gives it back (call it once the teacher stops running
 * ahead), or null where the teacher should run in line on the student's threads.
 */
export function coreForTeacher(student: tf.LayersModel, teacher: tf.LayersModel): (() => void) | null {
  if (tf.getBackend() !== 'wasm') return null;
  const threads = wasmThreadsInUse();
  if (threads === 1) return () => undefined;
  if (threads > MAX_THREADS_LENDING) return null;
  if (flopsPerImage(teacher) < MIN_TEACHER_FLOPS_RATIO * flopsPerImage(student)) return null;
  return narrowWasmPool(tf.backend() as BackendWasm, threads - 1);
}
