import { describe, expect, it } from 'vitest';
import { type BackendProbe, type BackendProbes, chooseBackend, looksSoftware } from './chooseBackend';

const hardware = (description: string): BackendProbe => ({ available: true, description, software: false });
const software = (description: string): BackendProbe => ({ available: true, description, software: true });
const missing = (description: string): BackendProbe => ({ available: false, description, software: false });

const probes = (overrides: Partial<BackendProbes>): BackendProbes => ({
  webgpu: missing('navigator.gpu is missing'),
  webgl: missing('no WebGL context'),
  wasm: hardware('WebAssembly'),
  cpu: hardware('plain JavaScript'),
  ...overrides,
});

describe('chooseBackend (automatic rule)', () => {
  it('takes WebGPU on a real GPU adapter, over a hardware WebGL too', () => {
    const choice = chooseBackend(
      probes({ webgpu: hardware('nvidia hopper'), webgl: hardware('ANGLE NVIDIA') }),
    );
    expect(choice.backend).toBe('webgpu');
    expect(choice.fallback).toBeUndefined();
  });

  it('takes hardware WebGL when the WebGPU adapter is a software fallback', () => {
    const choice = chooseBackend(probes({ webgpu: software('SwiftShader'), webgl: hardware('ANGLE Intel') }));
    expect(choice.backend).toBe('webgl');
  });

  it('takes hardware WebGL when there is no WebGPU at all', () => {
    expect(chooseBackend(probes({ webgl: hardware('ANGLE AMD') })).backend).toBe('webgl');
  });

  it('prefers wasm over software WebGPU and software WebGL (measured ~20x faster to train)', () => {
    const choice = chooseBackend(probes({ webgpu: software('SwiftShader'), webgl: software('SwiftShader') }));
    expect(choice.backend).toBe('wasm');
    expect(choice.reason).toMatch(/software fallback/);
  });

  it('falls to cpu only when nothing else exists', () => {
    expect(chooseBackend(probes({ wasm: missing('no WebAssembly') })).backend).toBe('cpu');
    expect(
      chooseBackend(probes({ webgl: software('llvmpipe'), wasm: missing('no WebAssembly') })).backend,
    ).toBe('cpu');
  });
});

describe('chooseBackend (user override)', () => {
  it('honours an available request, even a software adapter', () => {
    const choice = chooseBackend(probes({ webgpu: software('SwiftShader') }), 'webgpu');
    expect(choice).toMatchObject({ backend: 'webgpu', reason: 'requested by the user' });
    expect(choice.fallback).toBeUndefined();
    expect(chooseBackend(probes({}), 'cpu').backend).toBe('cpu');
  });

  it('falls back visibly, with the reason, when the request is unavailable', () => {
    const choice = chooseBackend(probes({ webgl: software('SwiftShader') }), 'webgpu');
    expect(choice.backend).toBe('wasm');
    expect(choice.fallback).toEqual({ requested: 'webgpu', why: 'navigator.gpu is missing' });
  });

  it('falls back to the automatic choice, not blindly to cpu', () => {
    const choice = chooseBackend(probes({ webgpu: hardware('Apple M2'), webgl: missing('lost') }), 'webgl');
    expect(choice.backend).toBe('webgpu');
    expect(choice.fallback?.requested).toBe('webgl');
  });
});

describe('looksSoftware', () => {
  it.each([
    ['Google SwiftShader', true],
    ['ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', true],
    ['llvmpipe (LLVM 15.0.6, 256 bits)', true],
    ['Microsoft Basic Render Driver', true],
    ['ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0, D3D11)', false],
    ['nvidia hopper', false],
  ])('%s -> %s', (description, expected) => {
    expect(looksSoftware(description)).toBe(expected);
  });
});
