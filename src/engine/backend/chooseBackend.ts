/**
 * Which tfjs backend to run on, as a pure function of what the host reports, so it is unit-tested without a
 * browser. Rule (DESIGN.md section 5): WebGPU on a real GPU, else WebGL when hardware-accelerated, else wasm,
 * cpu last. A software adapter (SwiftShader, `isFallbackAdapter`) loses to wasm, measured ~20x faster to train.
 */

import type { BackendName } from '../config/backends';

export { BACKEND_NAMES, type BackendName, isBackendName } from '../config/backends';

/** What the host found out about one backend before choosing. */
export interface BackendProbe {
  readonly available: boolean;
  /** Adapter or renderer description, e.g. "Google SwiftShader"; or why it is unavailable. */
  readonly description: string;
  /** True for software adapters/renderers (SwiftShader, llvmpipe, isFallbackAdapter). */
  readonly software: boolean;
}

export type BackendProbes = Readonly<Record<BackendName, BackendProbe>>;

export interface BackendChoice {
  readonly backend: BackendName;
  /** One sentence: why this backend. */
  readonly reason: string;
  /** Set when the user asked for a backend that could not be used. */
  readonly fallback?: { readonly requested: BackendName; readonly why: string };
}

function automatic(probes: BackendProbes): BackendChoice {
  const { webgpu, webgl, wasm } = probes;
  if (webgpu.available && !webgpu.software)
    return { backend: 'webgpu', reason: 'WebGPU on a hardware GPU adapter' };
  if (webgl.available && !webgl.software) return { backend: 'webgl', reason: 'hardware-accelerated WebGL' };
  const softwareGpu =
    webgpu.available || webgl.available ? ' (the only GPU adapter is a software fallback)' : '';
  if (wasm.available) return { backend: 'wasm', reason: `WebAssembly on the CPU${softwareGpu}` };
  return { backend: 'cpu', reason: 'plain JavaScript on the CPU: no WebGPU, WebGL or WebAssembly available' };
}

/** Applies the rule; a requested backend wins when it is available, even on a software adapter. */
export function chooseBackend(probes: BackendProbes, requested?: BackendName): BackendChoice {
  if (requested === undefined) return automatic(probes);
  const probe = probes[requested];
  if (probe.available) return { backend: requested, reason: `requested by the user` };
  return { ...automatic(probes), fallback: { requested, why: probe.description } };
}

/** Recognises software renderers by the names browsers report for them. */
export const looksSoftware = (description: string): boolean =>
  /swiftshader|llvmpipe|softpipe|software|basic render|lavapipe/i.test(description);
