import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './initBackend';
import { wasmThreads, withWasmThreads } from './wasmThreads';

// Node has no navigator.gpu and no OffscreenCanvas: the real tf.setBackend path must pick wasm, and a request
// for a GPU backend must fall back visibly with the reason.
describe('initBackend in Node', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('chooses wasm automatically, and says why the GPU backends are out', async () => {
    const report = await initBackend();
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.fallback).toBeUndefined();
    expect(report.adapter).toMatch(/^WebAssembly/);
    expect(report.probes.webgpu).toMatchObject({
      available: false,
      description: expect.stringMatching(/navigator\.gpu/),
    });
    expect(report.probes.webgl.available).toBe(false);
  });

  it('falls back from an unavailable webgpu request, naming the reason', async () => {
    const report = await initBackend('webgpu');
    expect(report.backend).toBe('wasm');
    expect(report.fallback).toEqual({
      requested: 'webgpu',
      why: expect.stringMatching(/navigator\.gpu is missing/),
    });
  });

  it('probes only the requested backend when asked to (a helper Worker running wasm)', async () => {
    const report = await initBackend('wasm', { probeRequestedOnly: true });
    expect(report.backend).toBe('wasm');
    expect(report.probes.wasm.available).toBe(true);
    for (const name of ['webgpu', 'webgl'] as const)
      expect(report.probes[name]).toMatchObject({
        available: false,
        description: 'not probed: this host asked for wasm only',
      });
  });

  it('honours an available request', async () => {
    const report = await initBackend('cpu');
    expect(report).toMatchObject({ backend: 'cpu', reason: 'requested by the user' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('runs wasm single-threaded in Node, where tfjs turns wasm threads off, and says so', async () => {
    expect(await wasmThreads()).toBeNull();
    const report = await initBackend('wasm');
    expect(report.adapter).toBe('WebAssembly SIMD, single-threaded');
  });

  it('gives wasm every logical core where threads can run', async () => {
    const flags = tf.env();
    const before = flags.getFlags().WASM_HAS_MULTITHREAD_SUPPORT;
    flags.set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    vi.stubGlobal('navigator', { hardwareConcurrency: 6 });
    try {
      expect(await wasmThreads()).toBe(6);
      // tfjs's init halves what it reads; it must read twice the count while it runs, the real one after.
      const seen = await withWasmThreads(6, async () => navigator.hardwareConcurrency);
      expect(seen).toBe(12);
      expect(navigator.hardwareConcurrency).toBe(6);
      vi.stubGlobal('navigator', {});
      expect(await wasmThreads()).toBeNull();
    } finally {
      vi.unstubAllGlobals();
      if (before === undefined) flags.reset();
      else flags.set('WASM_HAS_MULTITHREAD_SUPPORT', before);
    }
  });
});
