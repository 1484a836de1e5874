/**
 * ReLU's gradient on wasm as one kernel of the lab's (wasmReluGrad.ts has the loop and the why): tfjs-core's
 * gradient for Relu is mul(dy, cast(step(x))), two kernels and five passes. This registers a wasm kernel that does
 * it in one, split among the loop team, and a gradient for Relu that runs it on wasm (x's size a multiple of 4,
 * the lab's loop module made) and tfjs-core's own expression everywhere else. Same values, signed zeros
 * included (tested against the cpu backend, reluGradient.test.ts).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  cast,
  engine,
  getBackend,
  getGradient,
  getKernel,
  type KernelFunc,
  mul,
  registerGradient,
  registerKernel,
  Relu,
  step,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { heapAddress, loopsInGroupsOfFour, wasmLoops } from './wasmLoops';
import { splitLoop } from './wasmTeam';

/** The lab's kernel: dx = dy * step(x) in one pass. */
export const RELU_GRAD = 'LabReluGrad';

const reluGradKernel: KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const wasm = backend as BackendWasm;
  const { loops, size } = loopsInGroupsOfFour(RELU_GRAD, wasm, x.shape);
  const out = wasm.makeOutput(x.shape, 'float32');
  const [dyAt, xAt, outAt] = [dy, x, out].map((t) => heapAddress(wasm, t.dataId)) as [number, number, number];
  // Split by groups of 4 floats among the loop team (wasmTeam.ts).
  splitLoop(loops, 'reluGrad', size / 4, 3 * size, (from, to) => [
    dyAt + 16 * from,
    xAt + 16 * from,
    outAt + 16 * from,
    16 * (to - from),
  ]);
  return out;
};

/** dx of relu(x) for dy: the lab's kernel where it runs, else tfjs-core's expression. */
export function reluGradient(dy: Tensor, x: Tensor): Tensor {
  const onWasm =
    getBackend() === 'wasm' &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    x.size % 4 === 0 &&
    getKernel(RELU_GRAD, 'wasm') != null &&
    wasmLoops(engine().backend as unknown as BackendWasm) != null;
  if (!onWasm) return mul(dy, cast(step(x), 'float32'));
  return engine().runKernel(RELU_GRAD, { dy, x }) as Tensor;
}

/** Registers the wasm kernel and the Relu gradient that uses it (once; later calls do nothing). */
export function registerReluGradient(): void {
  if (getKernel(RELU_GRAD, 'wasm') == null)
    registerKernel({ kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: reluGradKernel });
  if (getGradient(Relu)?.gradFunc === gradFunc) return;
  registerGradient({ kernelName: Relu, inputsToSave: ['x'], gradFunc });
}

function gradFunc(dy: Tensor | Tensor[], saved: Tensor[]) {
  if (Array.isArray(dy)) throw new Error('reluGradient: Relu has a single output');
  const [x] = saved;
  return { x: () => reluGradient(dy, x!) };
}
