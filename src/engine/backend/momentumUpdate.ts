/**
 * SGD with momentum's update on wasm as one kernel of the lab's (wasmMomentum.ts has the loop and the why), used
 * by the trainer's optimizer (training/momentum.ts). Same values as tfjs's MomentumOptimizer, bit for bit
 * (momentumUpdate.test.ts).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  engine,
  getBackend,
  getKernel,
  type KernelFunc,
  registerKernel,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { floatBits } from './wasmMomentum';
import { heapAddress, loopsInGroupsOfFour, wasmLoops } from './wasmLoops';
import { splitLoop } from './wasmTeam';

/** The lab's kernel: [m acc + grad, c (m acc + grad) + value] in one pass. */
export const MOMENTUM_UPDATE = 'LabMomentumUpdate';

interface MomentumAttrs {
  /** The momentum m, and c = -learning rate, as the float32 scalars tfjs's optimizer multiplies by. */
  readonly m: number;
  readonly c: number;
}

const momentumUpdateKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { value, accumulation, gradient } = inputs as Record<
    'value' | 'accumulation' | 'gradient',
    TensorInfo
  >;
  const { m, c } = attrs as unknown as MomentumAttrs;
  const wasm = backend as BackendWasm;
  const { loops, size } = loopsInGroupsOfFour(MOMENTUM_UPDATE, wasm, value.shape);
  const newAccumulation = wasm.makeOutput(value.shape, 'float32');
  const newValue = wasm.makeOutput(value.shape, 'float32');
  const addresses = [value, accumulation, gradient, newAccumulation, newValue].map((t) =>
    heapAddress(wasm, t.dataId),
  );
  // Split by groups of 4 floats among the loop team (wasmTeam.ts).
  splitLoop(loops, 'momentumUpdate', size / 4, 5 * size, (from, to) => [
    ...addresses.map((address) => address + 16 * from),
    16 * (to - from),
    floatBits(m),
    floatBits(c),
  ]);
  return [newAccumulation, newValue];
};

/**
 * [m accumulation + gradient, c that + value] by the lab's kernel, where it runs (wasm, float32, a size that is a
 * multiple of 4, the loop module made); null elsewhere, where the caller updates as tfjs does.
 */
export function fusedMomentumUpdate(
  value: Tensor,
  accumulation: Tensor,
  gradient: Tensor,
  attrs: MomentumAttrs,
): [Tensor, Tensor] | null {
  const runs =
    getBackend() === 'wasm' &&
    [value, accumulation, gradient].every((t) => t.dtype === 'float32') &&
    value.size % 4 === 0 &&
    getKernel(MOMENTUM_UPDATE, 'wasm') != null &&
    wasmLoops(engine().backend as unknown as BackendWasm) != null;
  if (!runs) return null;
  const outputs = engine().runKernel(
    MOMENTUM_UPDATE,
    { value, accumulation, gradient },
    // Kernel attrs are tfjs's untyped NamedAttrMap.
    attrs as unknown as Record<string, number>,
  ) as Tensor[];
  return [outputs[0]!, outputs[1]!];
}

/** Registers the wasm kernel (once; later calls do nothing). */
export function registerMomentumUpdate(): void {
  if (getKernel(MOMENTUM_UPDATE, 'wasm') == null)
    registerKernel({ kernelName: MOMENTUM_UPDATE, backendName: 'wasm', kernelFunc: momentumUpdateKernel });
}
