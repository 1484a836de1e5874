import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  BACKEND_NAMES,
  type BackendChoice,
  type BackendName,
  type BackendProbe,
  type BackendProbes,
  chooseBackend,
  looksSoftware,
} from './chooseBackend';
import { installTrainingBatchNorm } from './trainingBatchNorm';
import { installTrainingConv } from './trainingConv';
import { registerMomentumUpdate } from './momentumUpdate';
import { registerMeanGradient } from './meanGradient';
import { registerReluGradient } from './reluGradient';
import { registerWasmGradientKernels } from './wasmGradients';
import { noteWasmThreads, wasmThreads, withWasmThreads } from './wasmThreads';
import { wasmLoops } from './wasmLoops';
import { type LoopHelperFactory, prespawnedHelpers, startLoopTeam } from './wasmTeamStart';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** What the lab shows in its backend badge; plain JSON, sent from the Worker to the UI. */
export interface BackendReport extends BackendChoice {
  /** The adapter's or runtime's description for the active backend. */
  readonly adapter: string;
  /** Whether the active backend runs on a software fallback adapter (SwiftShader & co.). */
  readonly software: boolean;
  /** Every backend as probed, with the reason for each unavailable one. */
  readonly probes: BackendProbes;
  /**
   * wasm only: where the training kernels' data-movement loops run: 'wasm' (the lab's own module on tfjs's
   * memory, wasmLoops.ts) or 'js' (the fallback, where that module cannot be made).
   */
  readonly trainingLoops?: 'wasm' | 'js';
  /** wasm only: threads the lab's loops are split over (the loop team's width, wasmTeam.ts); 1 without a team. */
  readonly loopThreads?: number;
}

export interface InitBackendOptions {
  /** Where the browser host serves tfjs-backend-wasm's .wasm files (file name -> URL); Node needs none. */
  readonly wasmPaths?: Record<string, string>;
  /** At most this many wasm threads (a helper Worker beside the training one asks for 1); every core if left out. */
  readonly wasmThreads?: number;
  /**
   * Probe only the requested backend (a helper Worker that runs wasm needs no WebGPU adapter or WebGL context);
   * the others are reported as not probed.
   */
  readonly probeRequestedOnly?: boolean;
  /**
   * Starts a helper Worker for the lab's loop team (wasmTeam.ts) on a page with wasm threads; without it the
   * lab's own loops run on the calling thread only.
   */
  readonly loopHelper?: LoopHelperFactory;
  /**
   * Work to do while the loop team's helpers start, instead of waiting idle for them (the session builds its
   * preset table there, which the page asks for next).
   */
  readonly whileHelpersStart?: () => void;
}

const unavailable = (description: string): BackendProbe => ({
  available: false,
  description,
  software: false,
});
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function probeWebGpu(): Promise<BackendProbe> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return unavailable('navigator.gpu is missing: this browser or host has no WebGPU');
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return unavailable('no WebGPU adapter: requestAdapter() returned null');
    const info = adapter.info;
    const description =
      [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
      'unnamed WebGPU adapter';
    // Chrome moved isFallbackAdapter from the adapter to its info; read whichever this browser has.
    const flags = adapter as unknown as { isFallbackAdapter?: boolean };
    const infoFlags = info as unknown as { isFallbackAdapter?: boolean };
    const fallback = infoFlags.isFallbackAdapter ?? flags.isFallbackAdapter ?? false;
    return { available: true, description, software: fallback || looksSoftware(description) };
  } catch (error) {
    return unavailable(`WebGPU adapter request failed: ${errorText(error)}`);
  }
}

function probeWebGl(): BackendProbe {
  // Workers have no document; tfjs's WebGL backend runs there on an OffscreenCanvas.
  if (typeof OffscreenCanvas === 'undefined')
    return unavailable('no OffscreenCanvas, so no WebGL in this host');
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return unavailable('no WebGL context could be created');
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    // A context that refuses `failIfMajorPerformanceCaveat` runs on a software rasteriser.
    const caveat =
      new OffscreenCanvas(1, 1).getContext('webgl2', { failIfMajorPerformanceCaveat: true }) === null;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { available: true, description: renderer, software: caveat || looksSoftware(renderer) };
  } catch (error) {
    return unavailable(`WebGL probe failed: ${errorText(error)}`);
  }
}

/** Every backend probed, or with `only` that one (and cpu, the last resort): the others are not asked. */
export async function probeBackends(only?: BackendName): Promise<BackendProbes> {
  const asked = (name: BackendName) => only == null || name === only;
  const notAsked = unavailable(`not probed: this host asked for ${only} only`);
  const wasm: BackendProbe = !asked('wasm')
    ? notAsked
    : typeof WebAssembly === 'object'
      ? { available: true, description: 'WebAssembly (XNNPACK)', software: false }
      : unavailable('no WebAssembly in this host');
  return {
    webgpu: asked('webgpu') ? await probeWebGpu() : notAsked,
    webgl: asked('webgl') ? probeWebGl() : notAsked,
    wasm,
    cpu: { available: true, description: 'plain JavaScript', software: false },
  };
}

/** Loads a backend's code only when it is chosen: keeps first paint light and Node free of browser-only code. */
async function registerBackendCode(name: BackendName, options: InitBackendOptions): Promise<number | null> {
  if (name === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (name === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (options.wasmPaths) wasm.setWasmPaths(options.wasmPaths);
    // One thread asked: tfjs's single-threaded build, which starts no pthread Workers (the threaded one starts 8).
    if (options.wasmThreads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const cores = await wasmThreads();
    const threads = cores == null ? null : Math.min(cores, options.wasmThreads ?? cores);
    if (threads != null) wasm.setThreadsCount(threads);
    registerWasmGradientKernels();
    registerReluGradient();
    registerMeanGradient();
    registerMomentumUpdate();
    installTrainingBatchNorm();
    installTrainingConv();
    return threads;
  }
  return null;
}

/** The running wasm backend: its badge text and the threads in its pool (1 for the single-threaded builds). */
async function wasmInUse(): Promise<{ adapter: string; threads: number }> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  const threads = multithread ? getThreadsCount() : 1;
  const count = multithread ? `${threads} thread${threads === 1 ? '' : 's'}` : 'single-threaded';
  return { adapter: `WebAssembly${simd ? ' SIMD' : ''}, ${count}`, threads };
}

/** Where wasm's training loops run, with the loop team started where the pool has threads to share. */
async function wasmLoopsInUse(
  backend: BackendWasm,
  threads: number,
  helpers: LoopHelperFactory | undefined,
  whileHelpersStart: (() => void) | undefined,
): Promise<Pick<BackendReport, 'trainingLoops' | 'loopThreads'>> {
  if (!wasmLoops(backend)) return { trainingLoops: 'js', loopThreads: 1 };
  const starting = threads > 1 && helpers ? startLoopTeam(backend, threads - 1, helpers) : null;
  if (starting) whileHelpersStart?.();
  const team = await starting;
  return { trainingLoops: 'wasm', loopThreads: team ? team.helpers + 1 : 1 };
}

/**
 * Probes, chooses and activates a backend. `tf.setBackend` resolves to false (it does not throw) when a
 * backend cannot start, so its result is checked, and the next choice is tried with the reason recorded.
 */
export async function initBackend(
  requested?: BackendName,
  options: InitBackendOptions = {},
): Promise<BackendReport> {
  const probes: Record<BackendName, BackendProbe> = {
    ...(await probeBackends(options.probeRequestedOnly ? requested : undefined)),
  };
  let firstFallback: BackendChoice['fallback'];
  for (let attempt = 0; attempt < BACKEND_NAMES.length; attempt++) {
    const choice = chooseBackend(probes, requested);
    firstFallback ??= choice.fallback;
    let started = false;
    let why = `tf.setBackend('${choice.backend}') returned false`;
    let helpers: ReturnType<typeof prespawnedHelpers> | null = null;
    try {
      const threads = await registerBackendCode(choice.backend, options);
      // The loop team's Workers load while wasm starts (its instance, tfjs's pthread pool).
      if (threads != null && threads > 1 && options.loopHelper)
        helpers = prespawnedHelpers(threads - 1, options.loopHelper);
      started = await withWasmThreads(threads, () => tf.setBackend(choice.backend));
      await tf.ready();
    } catch (error) {
      why = `${choice.backend} failed to start: ${errorText(error)}`;
    }
    if (started && tf.getBackend() === choice.backend) {
      const probe = probes[choice.backend];
      const wasm = choice.backend === 'wasm' ? await wasmInUse() : null;
      // What the runs ask of the backend (runSpec.ts: whether the teacher can run ahead on a free core).
      if (wasm) noteWasmThreads(wasm.threads);
      const adapter = wasm?.adapter ?? probe.description;
      const loops = wasm
        ? await wasmLoopsInUse(
            tf.backend() as BackendWasm,
            wasm.threads,
            helpers?.spawn,
            options.whileHelpersStart,
          )
        : {};
      helpers?.release();
      return {
        ...choice,
        ...(firstFallback ? { fallback: firstFallback } : {}),
        ...loops,
        adapter,
        software: probe.software,
        probes,
      };
    }
    helpers?.release();
    probes[choice.backend] = unavailable(why);
  }
  throw new Error('no tfjs backend could start, not even cpu');
}
