import type { BackendName } from '../engine/backend/chooseBackend';
import { type BackendReport, initBackend } from '../engine/backend/initBackend';
import { UsageError } from './usage';

const NODE_BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'webgpu'];

/**
 * Node's backend: wasm by default (with the lab's gradient kernels). `webgpu` uses the npm package `webgpu`
 * (Dawn) when it is installed and finds an adapter; a request that cannot be met is an error here, not a quiet
 * fallback, because a CLI run's numbers must say what they ran on.
 */
export async function startNodeBackend(requested: BackendName | undefined): Promise<BackendReport> {
  if (requested !== undefined && !NODE_BACKENDS.includes(requested)) {
    throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}`);
  }
  if (requested === 'webgpu') await installNodeWebGpu();
  const report = await initBackend(requested ?? 'wasm');
  if (report.fallback) {
    throw new Error(`backend ${report.fallback.requested} is unavailable: ${report.fallback.why}`);
  }
  return report;
}

async function installNodeWebGpu(): Promise<void> {
  if ((globalThis.navigator as Navigator | undefined)?.gpu) return;
  let dawn: { create: (flags: string[]) => GPU; globals: object };
  try {
    // Optional: the `webgpu` package is not a dependency of the lab; install it where a GPU exists.
    const name = 'webgpu';
    dawn = (await import(/* @vite-ignore */ name)) as typeof dawn;
  } catch {
    throw new Error('--backend webgpu needs the npm package `webgpu` (Dawn): npm install --no-save webgpu');
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...globalThis.navigator, gpu },
    configurable: true,
  });
}
