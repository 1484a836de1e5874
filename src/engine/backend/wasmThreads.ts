/**
 * How many threads wasm trains with, and how the lab gets them. tfjs-backend-wasm 4.22 sizes its XNNPACK pool
 * at half of `navigator.hardwareConcurrency` and caps any `setThreadsCount` at that half too (its compiled
 * init_with_threads_count), assuming two hardware threads per core. Training has nothing else to run, so the lab
 * asks for every logical core, and lets tfjs's init see twice the real count while it starts (then puts the real
 * one back), which is what lifts that cap. In Node tfjs turns wasm threads off (its pool is built on browser
 * Workers; tensorflow/tfjs#3830): the wasm backend there is single-threaded, whatever this says.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Every logical core where wasm can run threads (cross-origin isolated browser pages); null where it cannot. */
export async function wasmThreads(): Promise<number | null> {
  if (!(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) return null;
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency;
  return cores != null && cores >= 1 ? cores : null;
}

/**
 * Runs `start` (the wasm backend's initialisation) with `navigator.hardwareConcurrency` reading 2 x `threads`,
 * so that tfjs's halving gives `threads`; the real value is back as soon as `start` settles.
 */
export async function withWasmThreads<T>(threads: number | null, start: () => Promise<T>): Promise<T> {
  const nav = globalThis.navigator as Navigator | undefined;
  if (threads == null || nav == null) return start();
  const own = Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency');
  try {
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  } catch {
    // A host whose navigator cannot be changed keeps tfjs's own count (half the cores).
    return start();
  }
  try {
    return await start();
  } finally {
    if (own) Object.defineProperty(nav, 'hardwareConcurrency', own);
    else delete (nav as unknown as Record<string, unknown>).hardwareConcurrency;
  }
}

let threadsInUse = 1;

/** Threads of the running wasm backend's pool (1 single-threaded, or before wasm starts); set by initBackend. */
export function wasmThreadsInUse(): number {
  return threadsInUse;
}

export function noteWasmThreads(count: number): void {
  threadsInUse = Math.max(1, count);
}
