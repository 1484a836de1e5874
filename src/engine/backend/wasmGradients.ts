/**
 * Backward kernels that @tensorflow/tfjs-backend-wasm 4.22 does not ship, so that conv nets can be trained
 * on it (DESIGN.md §5), plus faster stand-ins for wasm kernels that dominate a training step: its
 * Conv2DBackpropInput (a naive loop), Sum and Mean over leading axes (a generic transpose first), and Identity
 * and same-dtype Cast (full copies). Each one is composed from wasm's own registered kernels, so the data
 * never leaves the wasm heap and no second backend has to be initialised. Conv2DBackpropFilter and MaxPoolGrad
 * are loops over the wasm heap (wasmHeapKernels.ts), registered here with the rest, as is GatherV2 by row
 * copies (wasmGather.ts).
 */
import {
  backend_util,
  BatchMatMul,
  Conv2D,
  FusedConv2D,
  Cast,
  GatherV2,
  type CastAttrs,
  type CastInputs,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropFilterInputs,
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropInputInputs,
  getKernel,
  Identity,
  type IdentityInputs,
  type KernelBackend,
  type KernelFunc,
  MaxPoolGrad,
  Mean,
  registerKernel,
  Sum,
  type SumAttrs,
  type SumInputs,
  type TensorInfo,
  unregisterKernel,
  util,
} from '@tensorflow/tfjs-core';
import { conv2DInputGradPhases } from './convInputGradPhases';
import { BACKEND, composite, heapF32, type KernelScope } from './kernelScope';
import { rowGatherV2 } from './wasmGather';
import { heapKernels } from './wasmHeapKernels';
import { heapAddress, wasmLoops } from './wasmLoops';
import { longProduct, longProductFits } from './wasmLongProduct';
import { transposingBatchMatMul } from './wasmMatMul';
import { winogradConv2D, winogradFusedConv2D } from './winogradConv';

type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPad {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

function assertShape(what: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`wasmGradients: ${what} has shape [${actual}], expected [${expected}]`);
  }
}

function assertNoDilation(kernelName: string, dilations: number | [number, number] | undefined): void {
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
  if (dh !== 1 || dw !== 1) {
    // tfjs-core's own gradients never ask for this (they assert dilation 1), so it is left unimplemented.
    throw new Error(`wasmGradients: ${kernelName} with dilations [${dh}, ${dw}] is not supported`);
  }
}

/**
 * How far the dilated "filter" (dy) reaches past the bottom/right edge of x when it is slid over kernel
 * offsets 0..k-1. Forward padding beyond that reach only ever meets zeros, so only the top/left pad matters.
 */
function reachPad(
  kernel: number,
  outSize: number,
  stride: number,
  inSize: number,
  padBefore: number,
): number {
  return Math.max(0, kernel + (outSize - 1) * stride - inSize - padBefore);
}

/**
 * dW[kh,kw,c,m] = sum_{n,oh,ow} x[n, oh*s+kh-pT, ow*s+kw-pL, c] * dy[n,oh,ow,c*M+m]: a depthwise conv with x
 * as [1,H,W,N*C] (the batch folded into the channel axis, which must not be summed over) and dy as an
 * [OH,OW,N*C,M] depthwise filter dilated by the forward stride, so XNNPACK does the heavy lifting; then the N
 * partial filters are summed.
 */
const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as DepthwiseConv2dNativeBackpropFilterInputs;
  // See conv2DBackpropFilter: attrs are untyped at the kernel boundary.
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  if (x == null || dy == null)
    throw new Error('wasmGradients: DepthwiseConv2dNativeBackpropFilter needs x and dy');
  if (x.shape.length !== 4)
    throw new Error('wasmGradients: DepthwiseConv2dNativeBackpropFilter expects rank-4 x');
  assertNoDilation(DepthwiseConv2dNativeBackpropFilter, dilations);

  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = filterShape;
  const n = info.batchSize;
  assertShape('DepthwiseConv2dNativeBackpropFilter dy', dy.shape, [n, info.outHeight, info.outWidth, c * m]);

  const padBottom = reachPad(kh, info.outHeight, info.strideHeight, info.inHeight, info.padInfo.top);
  const padRight = reachPad(kw, info.outWidth, info.strideWidth, info.inWidth, info.padInfo.left);

  return composite(backend, (s) => {
    const xT = s.run('Transpose', { x }, { perm: [1, 2, 0, 3] });
    const xFolded = s.reshape(xT, [1, info.inHeight, info.inWidth, n * c]);
    const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const dyFilter = s.reshape(dyT, [info.outHeight, info.outWidth, n * c, m]);
    const conv = s.run(
      'DepthwiseConv2dNative',
      { x: xFolded, filter: dyFilter },
      {
        strides: [1, 1],
        dilations: [info.strideHeight, info.strideWidth],
        pad: explicitPad(info.padInfo.top, padBottom, info.padInfo.left, padRight),
      },
    );
    const cropped =
      conv.shape[1] === kh && conv.shape[2] === kw
        ? conv
        : s.run('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [1, kh, kw, n * c * m] });
    // Output channel (n*C + c)*M + m: the batch is the middle axis of [kh*kw, N, C*M].
    const perBatch = s.reshape(cropped, [kh * kw, n, c * m]);
    const summed = n === 1 ? perBatch : s.run('Sum', { x: perBatch }, { axis: [1], keepDims: false });
    return s.reshape(summed, [kh, kw, c, m]);
  });
};

/**
 * dx of a (depthwise) conv is a transposed conv: spread dy out by the stride (stride-1 zeros between rows and
 * columns), then run a stride-1 conv of it with the spatially flipped filter. This builds the spread dy and the
 * explicit pads that make that conv's output exactly the forward input's H x W.
 */
function spreadForTransposedConv(
  s: KernelScope,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  kh: number,
  kw: number,
): { spread: TensorInfo; pad: ExplicitPad } {
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const ch = dy.shape[3] ?? 0;
  let spread = dy;
  // Insert stride-1 zeros after every row, then after every column, via rank-4 pads on reshaped views.
  if (sh > 1) {
    const rows = s.reshape(spread, [n * oh, 1, ow, ch]);
    const padded = s.run('PadV2', { x: rows }, { paddings: explicitPad(0, sh - 1, 0, 0), constantValue: 0 });
    spread = s.reshape(padded, [n, oh * sh, ow, ch]);
  }
  const hd = oh * sh;
  if (sw > 1) {
    const cols = s.reshape(spread, [n * hd, ow, 1, ch]);
    const padded = s.run('PadV2', { x: cols }, { paddings: explicitPad(0, 0, 0, sw - 1), constantValue: 0 });
    spread = s.reshape(padded, [n, hd, ow * sw, ch]);
  }
  const wd = ow * sw;

  // Full-correlation pads that make the output exactly H x W. A negative pad means dy rows that only ever
  // saw forward padding; they cannot reach x, so they are cropped off instead.
  const top = kh - 1 - info.padInfo.top;
  const bottom = h + info.padInfo.top - hd;
  const left = kw - 1 - info.padInfo.left;
  const right = w + info.padInfo.left - wd;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    spread = s.run(
      'Slice',
      { x: spread },
      {
        begin: [0, cropTop, cropLeft, 0],
        size: [n, hd - cropTop - cropBottom, wd - cropLeft - cropRight, ch],
      },
    );
  }
  const pad = explicitPad(Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right));
  return { spread, pad };
}

/**
 * The filter of a transposed conv: W [kh, kw, cin, cout] flipped in space, in/out channels swapped, as
 * [kh, kw, cout, cin]; the bytes of Reverse(dims 0, 1) then Transpose([0, 1, 3, 2]), which it replaces: wasm's
 * Reverse walks elements through generic strides (~25 ns a float, 0.9 ms for a [3, 3, 64, 64] filter, paid by
 * every stride-1 dx). Here tap t's [cin, cout] matrix goes transposed to tap kh * kw - 1 - t: the lab's 4x4
 * block transpose (wasmLoops) where both channel counts divide by 4, else a JS loop.
 */
export function flippedSwappedFilter(s: KernelScope, filter: TensorInfo): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape as Shape4;
  const taps = kh * kw;
  const matrix = cin * cout;
  const wasm = s.wasm;
  const out = s.output([kh, kw, cout, cin]);
  const loops = cin % 4 === 0 && cout % 4 === 0 ? wasmLoops(wasm) : null;
  if (loops != null) {
    const src = heapAddress(wasm, filter.dataId);
    const dst = heapAddress(wasm, out.dataId);
    for (let t = 0; t < taps; t++)
      loops.transpose4(src + 4 * t * matrix, dst + 4 * (taps - 1 - t) * matrix, cin, cout, 1);
    return out;
  }
  // Views after the output's allocation (a growing heap detaches earlier ones).
  const src = heapF32(wasm, filter);
  const dst = heapF32(wasm, out);
  for (let t = 0; t < taps; t++) {
    const from = t * matrix;
    let to = (taps - 1 - t) * matrix;
    for (let co = 0; co < cout; co++)
      for (let ci = 0; ci < cin; ci++) dst[to++] = src[from + ci * cout + co]!;
  }
  return out;
}

/**
 * Replaces wasm's shipped Conv2DBackpropInput, a plain C++ loop, with XNNPACK's Conv2D: the transposed conv of
 * `spreadForTransposedConv` with the filter flipped in space and its in/out channels swapped.
 */
const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as Conv2DBackpropInputInputs;
  // See conv2DBackpropFilter: attrs are untyped at the kernel boundary.
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    attrs as unknown as Conv2DBackpropInputAttrs;
  if (dy == null || filter == null) throw new Error('wasmGradients: Conv2DBackpropInput needs dy and filter');
  if (dataFormat === 'NCHW') {
    throw new Error("wasmGradients: Conv2DBackpropInput supports dataFormat 'NHWC' only, got 'NCHW'");
  }
  if (inputShape.length !== 4) throw new Error('wasmGradients: Conv2DBackpropInput expects a rank-4 input');

  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const [kh, kw, cin, cout] = filter.shape as Shape4;
  assertShape('Conv2DBackpropInput dy', dy.shape, [info.batchSize, info.outHeight, info.outWidth, cout]);

  return composite(backend, (s) => {
    if (info.strideHeight > 1 || info.strideWidth > 1)
      return conv2DInputGradPhases(s, backend, dy, filter, info);
    const { spread, pad: fullPad } = spreadForTransposedConv(s, dy, info, kh, kw);
    const swapped = flippedSwappedFilter(s, filter);
    const conv = s.run(
      'Conv2D',
      { x: spread, filter: swapped },
      { strides: [1, 1], dilations: [1, 1], pad: fullPad, dataFormat: 'NHWC' },
    );
    assertShape('Conv2DBackpropInput result', conv.shape, [info.batchSize, info.inHeight, info.inWidth, cin]);
    return conv;
  });
};

/**
 * dx of a depthwise conv is a transposed depthwise conv (see `spreadForTransposedConv`), summed over the
 * channel multiplier.
 */
const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as DepthwiseConv2dNativeBackpropInputInputs;
  // See conv2DBackpropFilter: attrs are untyped at the kernel boundary.
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  if (dy == null || filter == null) {
    throw new Error('wasmGradients: DepthwiseConv2dNativeBackpropInput needs dy and filter');
  }
  assertNoDilation(DepthwiseConv2dNativeBackpropInput, dilations);

  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = filter.shape as Shape4;
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  assertShape('DepthwiseConv2dNativeBackpropInput dy', dy.shape, [n, oh, ow, c * m]);

  return composite(backend, (s) => {
    const { spread, pad: fullPad } = spreadForTransposedConv(s, dy, info, kh, kw);
    const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const flippedFilter = s.reshape(flipped, [kh, kw, c * m, 1]);
    const conv = s.run(
      'DepthwiseConv2dNative',
      { x: spread, filter: flippedFilter },
      { strides: [1, 1], dilations: [1, 1], pad: fullPad },
    );
    assertShape('DepthwiseConv2dNativeBackpropInput result', conv.shape, [n, h, w, c * m]);
    if (m === 1) return conv;
    const split = s.reshape(conv, [n, h, w, c, m]);
    return s.run('Sum', { x: split }, { axis: [4], keepDims: false });
  });
};

/** wasm's own kernels that ours take over but fall back to, captured when ours are registered over them. */
const originals = new Map<string, KernelFunc>();

function original(kernelName: string): KernelFunc {
  const kernelFunc = originals.get(kernelName);
  if (kernelFunc == null) throw new Error(`wasmGradients: wasm's own '${kernelName}' was never captured`);
  return kernelFunc;
}

/** Below this many elements a reduction is too cheap for the depthwise detour to pay. */
const MIN_FAST_REDUCE_SIZE = 1 << 14;

/**
 * wasm's Sum and Mean first transpose the input so that the reduced axes are innermost. Reducing over the
 * leading axes, as per-channel statistics of NHWC maps do (BatchNorm's moments and gradients), therefore
 * copies the whole tensor through a slow generic transpose. Instead, as [A, B, 1, C] (A the first axis, B the
 * other reduced ones), a valid depthwise conv with a constant [B, 1] filter sums over B with XNNPACK, and only
 * the small [A, C] partial sums go through wasm's own kernel. Where C divides by 16, the partial sums come from
 * the lab's long-inner loop instead (wasmLongProduct.ts), a row of B weights times each [B, C] block: [64, 32,
 * 32, 16] summed in 0.9 ms against 2.3 (a bias gradient). Every other reduction is left to wasm's.
 */
function leadingAxesReduction(kernelName: typeof Sum | typeof Mean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as SumInputs;
    // Kernel attrs arrive as the untyped NamedAttrMap; tfjs-core's sum/mean ops fill exactly these.
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    if (x == null) throw new Error(`wasmGradients: ${kernelName} needs x`);
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const k = axes.length;
    const reduced = x.shape.slice(0, k);
    const kept = x.shape.slice(k);
    const a = x.shape[0] ?? 0;
    const b = util.sizeFromShape(reduced) / Math.max(a, 1);
    const c = util.sizeFromShape(kept);
    const fast =
      x.dtype === 'float32' &&
      k >= 2 &&
      k < rank &&
      axes.every((ax, i) => ax === i) &&
      b > 1 &&
      a * b * c >= MIN_FAST_REDUCE_SIZE;
    if (!fast) return original(kernelName)(args);

    return composite(args.backend, (s) => {
      // For Mean the filter carries 1/(A*B), so the last step, a sum or a mean over A alike, needs no division.
      const weight = kernelName === Mean ? 1 / (a * b) : 1;
      const loops = longProductFits(1, c) ? wasmLoops(s.wasm) : null;
      let partial: TensorInfo;
      if (loops != null) {
        // Per A, weight x (a row of B ones) . [B, C] by the long-inner loop: ~0.4 ns a float against the
        // depthwise conv's ~1.6 (a bias gradient over [64, 32, 32, 16]).
        const ones = s.output([b]);
        partial = s.output([a, c]);
        heapF32(s.wasm, ones).fill(weight);
        const [onesAt, xAt, partialAt] = [ones, x, partial].map((t) => heapAddress(s.wasm, t.dataId)) as [
          number,
          number,
          number,
        ];
        for (let i = 0; i < a; i++)
          longProduct(loops, onesAt, xAt + 4 * i * b * c, partialAt + 4 * i * c, 1, b, c, 4 * b, false);
      } else {
        const filter = s.run('Fill', {}, { shape: [b, 1, c, 1], value: weight, dtype: 'float32' });
        partial = s.run(
          'DepthwiseConv2dNative',
          { x: s.reshape(x, [a, b, 1, c]), filter },
          { strides: [1, 1], pad: 'valid', dilations: [1, 1] },
        );
      }
      const total = s.runFunc(
        Sum,
        original(Sum),
        { x: s.reshape(partial, [a, c]) },
        { axis: [0], keepDims: false },
      );
      return s.reshape(total, keepDims ? [...reduced.map(() => 1), ...kept] : kept);
    });
  };
}

/**
 * wasm's Identity copies its input, and the engine runs it for every tensor the tape saves for backprop
 * (engine.clone). Tensors are immutable, so, as the cpu backend does, the output can share the input's data
 * under wasm's refcount, as Reshape already does. Strings keep wasm's own path.
 */
const identity: KernelFunc = (args) => {
  const { x } = args.inputs as IdentityInputs;
  if (x == null) throw new Error('wasmGradients: Identity needs x');
  if (x.dtype === 'string') return original(Identity)(args);
  (args.backend as KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Same as `identity` for a Cast to the dtype the tensor already has (tfjs-layers casts every input). */
const cast: KernelFunc = (args) => {
  const { x } = args.inputs as CastInputs;
  const { dtype } = args.attrs as unknown as CastAttrs;
  if (x == null) throw new Error('wasmGradients: Cast needs x');
  if (x.dtype !== dtype || x.dtype === 'string') return original(Cast)(args);
  (args.backend as KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/**
 * How a kernel is registered: `add` only where wasm has none; `replace` over wasm's own, which is slower;
 * `wrap` over wasm's own, kept in `originals` for the cases ours hands back (so only once wasm's is there).
 */
type Mode = 'add' | 'replace' | 'wrap';

const KERNELS: ReadonlyArray<{ name: string; kernelFunc: KernelFunc; mode: Mode }> = [
  { name: Conv2DBackpropFilter, kernelFunc: heapKernels.conv2DBackpropFilter, mode: 'add' },
  { name: Conv2DBackpropInput, kernelFunc: conv2DBackpropInput, mode: 'replace' },
  { name: MaxPoolGrad, kernelFunc: heapKernels.maxPoolGrad, mode: 'replace' },
  { name: DepthwiseConv2dNativeBackpropFilter, kernelFunc: depthwiseConv2dNativeBackpropFilter, mode: 'add' },
  { name: DepthwiseConv2dNativeBackpropInput, kernelFunc: depthwiseConv2dNativeBackpropInput, mode: 'add' },
  { name: Sum, kernelFunc: leadingAxesReduction(Sum), mode: 'wrap' },
  { name: Mean, kernelFunc: leadingAxesReduction(Mean), mode: 'wrap' },
  { name: Identity, kernelFunc: identity, mode: 'wrap' },
  { name: Cast, kernelFunc: cast, mode: 'wrap' },
  { name: BatchMatMul, kernelFunc: transposingBatchMatMul(() => original(BatchMatMul)), mode: 'wrap' },
  { name: Conv2D, kernelFunc: winogradConv2D(() => original(Conv2D)), mode: 'wrap' },
  { name: FusedConv2D, kernelFunc: winogradFusedConv2D(() => original(FusedConv2D)), mode: 'wrap' },
  { name: GatherV2, kernelFunc: rowGatherV2(() => original(GatherV2)), mode: 'wrap' },
];

const registeredHere = new Set<string>();

/**
 * Registers, for the 'wasm' backend, the backward kernels it lacks and the faster stand-ins above. Safe to
 * call repeatedly and before or after the wasm backend is initialised, but after its module is imported:
 * the stand-ins that wrap wasm's own kernels need those to be registered, and importing the module later
 * puts wasm's own kernels back (calling this again swaps ours back in). A missing kernel that is already
 * registered (by a later tfjs release, say) is left alone. Returns every kernel name this module has
 * registered so far.
 */
export function registerWasmGradientKernels(): string[] {
  for (const { name, kernelFunc, mode } of KERNELS) {
    const existing = getKernel(name, BACKEND);
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing == null ? mode === 'wrap' : mode === 'add') continue;
    if (existing != null) {
      if (mode === 'wrap') originals.set(name, existing.kernelFunc);
      unregisterKernel(name, BACKEND);
    }
    // A wrapped kernel keeps wasm's setupFunc: it binds the wasm exports that wasm's own kernelFunc calls,
    // when the backend is initialised after this registration.
    const setup = mode === 'wrap' && existing != null ? { setupFunc: existing.setupFunc } : {};
    registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc, ...setup });
    registeredHere.add(name);
  }
  return [...registeredHere];
}
