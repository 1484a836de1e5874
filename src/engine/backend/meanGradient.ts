/**
 * Mean's gradient on wasm as one kernel of the lab's (docs/design.md §5, wasm training kernels). tfjs-core's
 * gradient builds a tensor of ones of x's shape in JS, copies it onto the heap, multiplies it by dy broadcast
 * and divides by the count: three passes and a JS fill for what is dy / count repeated. Global average pooling
 * (VGG's and ResNet's last [64, 4, 4, 256] or [64, 8, 8, 64] map) paid ~2.2 ms a step for it in Node, and its
 * broadcast Multiply took 1.2 ms on the threaded page against 0.1 on the single-threaded one (docs/benchmarks.md,
 * eleventh session). Here: dy / count written once per row, then copied out by doubling runs. Where the reduced
 * axes are one run of x's axes and the kept inner block has at least 4 floats; tfjs-core's own gradient
 * elsewhere and on every other backend. The same bits as tfjs-core's (dy * 1 / count; JS's float64 division
 * rounded to float32 is float32's division), tested against the cpu backend.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  engine,
  getBackend,
  getGradient,
  getKernel,
  type GradConfig,
  type KernelFunc,
  Mean,
  type MeanAttrs,
  type NamedAttrMap,
  registerGradient,
  registerKernel,
  type Tensor,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { heapF32 } from './kernelScope';

/** The lab's kernel: dx [outer, count, inner] = dy [outer, inner] / count. */
export const MEAN_GRAD = 'LabMeanGrad';

/**
 * The fewest floats a kept inner block may have: below it each copy moves a few bytes and tfjs-core's passes stay
 * (a floor chosen, not measured; every preset's pooling keeps 64 or more).
 */
const MIN_INNER = 4;

interface MeanGradAttrs {
  readonly shape: number[];
  readonly outer: number;
  readonly count: number;
  readonly inner: number;
}

const meanGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy } = inputs as { dy: TensorInfo };
  // Kernel attrs arrive as the untyped NamedAttrMap; meanGradient passes exactly these.
  const { shape, outer, count, inner } = attrs as unknown as MeanGradAttrs;
  const wasm = backend as BackendWasm;
  const out = wasm.makeOutput(shape, 'float32');
  // Views after the output's allocation (a growing heap detaches earlier ones).
  const src = heapF32(wasm, dy);
  const dst = heapF32(wasm, out);
  const block = count * inner;
  for (let o = 0; o < outer; o++) {
    const row = o * block;
    for (let i = 0; i < inner; i++) dst[row + i] = src[o * inner + i]! / count;
    // Rows [0, done) are written: copy as many of them as fit after them.
    for (let done = 1; done < count; done *= 2)
      dst.copyWithin(row + done * inner, row, row + Math.min(done, count - done) * inner);
  }
  return out;
};

/** x's shape as [outer, count, inner] around the reduced axes, or null where they are not one run of axes. */
function aroundAxes(shape: readonly number[], axes: readonly number[]) {
  const sorted = [...axes].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (last - first + 1 !== sorted.length) return null;
  const size = (from: number, to: number) => util.sizeFromShape(shape.slice(from, to));
  return { outer: size(0, first), count: size(first, last + 1), inner: size(last + 1, shape.length) };
}

let tfjsGradient: GradConfig['gradFunc'] | undefined;

function gradFunc(dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) {
  if (Array.isArray(dy)) throw new Error('meanGradient: Mean has a single output');
  const [x] = saved;
  // The attrs of tfjs-core's mean op: exactly these.
  const axes = util.parseAxisParam((attrs as unknown as MeanAttrs).axis, x!.shape);
  const around = aroundAxes(x!.shape, axes);
  const onWasm =
    getBackend() === 'wasm' &&
    x!.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    around != null &&
    around.inner >= MIN_INNER &&
    getKernel(MEAN_GRAD, 'wasm') != null;
  if (!onWasm) return tfjsGradient!(dy, saved, attrs);
  const kernelAttrs: NamedAttrMap = { shape: x!.shape, ...around };
  return { x: () => engine().runKernel(MEAN_GRAD, { dy }, kernelAttrs) as Tensor };
}

/** Registers the wasm kernel and the Mean gradient that uses it (once; later calls do nothing). */
export function registerMeanGradient(): void {
  if (getKernel(MEAN_GRAD, 'wasm') == null)
    registerKernel({ kernelName: MEAN_GRAD, backendName: 'wasm', kernelFunc: meanGradKernel });
  const current = getGradient(Mean);
  if (current?.gradFunc === gradFunc) return;
  if (current == null) throw new Error("meanGradient: tfjs-core's gradient for Mean is not registered");
  tfjsGradient = current.gradFunc;
  registerGradient({ kernelName: Mean, inputsToSave: ['x'], gradFunc });
}
