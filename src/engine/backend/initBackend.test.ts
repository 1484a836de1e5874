import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from './initBackend';

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

  it('honours an available request', async () => {
    const report = await initBackend('cpu');
    expect(report).toMatchObject({ backend: 'cpu', reason: 'requested by the user' });
    expect(tf.getBackend()).toBe('cpu');
  });
});
