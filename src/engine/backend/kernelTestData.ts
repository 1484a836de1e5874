/**
 * What the wasm kernel tests share: reading the same computation's results on the cpu and wasm backends, and
 * fixed pseudo-random inputs (the same on every run and backend), and how far two results are apart. Imported by
 * tests only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export type KernelTestBackend = 'cpu' | 'wasm';

/** Runs `fn` on backend `name` and returns its tensors' data (disposed). */
export async function readOn(name: KernelTestBackend, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  const outs = tf.tidy(fn);
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

/** Uniform in [-1, 1) from a fixed linear congruential sequence, quantised when `levels` is given (ties). */
export function values(size: number, seed: number, levels = 0): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const u = (a / 4294967296) * 2 - 1;
    return levels > 0 ? Math.round(u * levels) / levels : u;
  });
}

/**
 * Largest |a - b| relative to the largest |b| (products of K terms: absolute error grows with K); infinite where
 * a difference is NaN. The lengths must match.
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
