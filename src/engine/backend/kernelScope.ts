/**
 * The plumbing shared by the composite wasm kernels (wasmGradients.ts, wasmHeapKernels.ts): running wasm's own
 * kernels with every intermediate freed exactly once, and reading or writing a tensor's data in place on the
 * wasm heap for the few kernels written as plain loops (see docs/design.md, wasm training kernels).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

export const BACKEND = 'wasm';

/**
 * Runs wasm kernels and keeps every intermediate they return, so that a composite kernel frees each one
 * exactly once, also when it throws half way.
 */
export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(private readonly backend: KernelBackend) {}

  /** The backend as wasm's, for heap addresses and outputs. */
  get wasm(): BackendWasm {
    return this.backend as BackendWasm;
  }

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    // Looked up per call rather than captured at registration, so import order of this module and the
    // wasm backend does not matter.
    const kernel = getKernel(kernelName, BACKEND) as KernelConfig | undefined;
    if (kernel == null) {
      throw new Error(`wasmGradients: wasm kernel '${kernelName}' is not registered`);
    }
    return this.runFunc(kernelName, kernel.kernelFunc, inputs, attrs);
  }

  /** Runs a kernel function directly: for wasm's own kernel under a name that ours has taken over. */
  runFunc(
    kernelName: string,
    kernelFunc: KernelFunc,
    inputs: NamedTensorInfoMap,
    attrs: NamedAttrMap = {},
  ): TensorInfo {
    const out = kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      throw new Error(`wasmGradients: wasm kernel '${kernelName}' returned several outputs`);
    }
    this.temps.push(out);
    return out;
  }

  /** A new float32 tensor on the wasm heap, uninitialised, for a kernel that writes it in place. */
  output(shape: number[]): TensorInfo {
    const out = (this.backend as BackendWasm).makeOutput(shape, 'float32');
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Frees every intermediate but `keep`; a Reshape shares its source's dataId with a refcount, so this is safe. */
  disposeAllBut(keep: TensorInfo | undefined): void {
    for (const t of this.temps) {
      if (t !== keep) {
        this.backend.disposeData(t.dataId);
      }
    }
    this.temps.length = 0;
  }
}

export function composite(backend: unknown, body: (scope: KernelScope) => TensorInfo): TensorInfo {
  // KernelFunc types the backend as `{}`; for backendName 'wasm' the engine always passes its BackendWasm.
  const scope = new KernelScope(backend as KernelBackend);
  let result: TensorInfo | undefined;
  try {
    result = body(scope);
    return result;
  } finally {
    scope.disposeAllBut(result);
  }
}

/** The wasm backend behind a kernel call; KernelFunc types it as `{}`, for 'wasm' it is always BackendWasm. */
export const wasmBackendOf = (backend: unknown) => backend as BackendWasm;

/**
 * A float32 view of a tensor's data on the wasm heap, no copy. Take views only after the kernel's last
 * allocation: growing the heap can detach earlier views.
 */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`wasm heap kernels: expected float32 data, got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * Runs `body` with a float32 tensor of `shape` over `source`'s data from `offset` floats on: an alias, no copy.
 * The alias is unregistered afterwards without freeing its memory, which `source` owns; `body` must not keep
 * it (what it returns must be a tensor of its own).
 */
export function withAlias<T>(
  backend: BackendWasm,
  source: TensorInfo,
  offset: number,
  shape: number[],
  body: (alias: TensorInfo) => T,
): T {
  const data = backend.dataIdMap.get(source.dataId);
  if (data == null) throw new Error('wasm heap kernels: the aliased tensor has no data');
  const size = shape.reduce((p, d) => p * d, 1);
  const available = source.shape.reduce((p, d) => p * d, 1);
  if (offset < 0 || offset + size > available) {
    throw new Error(`wasm heap kernels: an alias of ${size} floats at ${offset} overruns ${available}`);
  }
  const alias = backend.makeOutput(shape, 'float32', data.memoryOffset + 4 * offset);
  try {
    return body(alias);
  } finally {
    const own = backend.dataIdMap.get(alias.dataId);
    if (own != null) backend.wasm.tfjs.disposeData(own.id);
    backend.dataIdMap.delete(alias.dataId);
  }
}
