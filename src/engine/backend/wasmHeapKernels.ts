/**
 * Training kernels for the wasm backend written as plain loops over the wasm heap, where composing wasm's own
 * kernels costs several passes over the data or a slow generic path (docs/design.md, wasm training kernels):
 *
 * - MaxPoolGrad: wasm's own recomputes each window's argmax through a generic loop; here one pass over x finds
 *   the argmax per window and channel (the cpu backend's rule: the first strict maximum, row-major) and adds dy
 *   there.
 * - Conv2DBackpropFilter: dW = im2col(x)^T dy, with the transposed im2col written by a loop and the product run
 *   by the lab's long-inner loop (wasmLongProduct.ts: it reads dy in place, where XNNPACK packs it at ~7 ns a
 *   float) or, where that does not fit, by wasm's BatchMatMul (XNNPACK's fully-connected operator).
 *   The im2col matrix is built per chunk of images so that it stays under MAX_IM2COL_FLOATS. Stride-1 convs
 *   with 8 or more input channels skip the im2col matrix (convFilterGradShifted.ts).
 */
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { canUseShifted, conv2DFilterGradShifted } from './convFilterGradShifted';
import { composite, heapF32, wasmBackendOf } from './kernelScope';
import { heapAddress, type WasmLoops, wasmLoops } from './wasmLoops';
import { longProduct, longProductFits } from './wasmLongProduct';
import { splitCalls, splitLoop } from './wasmTeam';
import { winogradFilterGrad, winogradFilterGradApplies } from './winogradFilterGrad';

type Shape4 = [number, number, number, number];

/** Largest im2col matrix built at once (floats): 32 MiB; bigger batches are split into chunks of images. */
export const MAX_IM2COL_FLOATS = 1 << 23;

function assertShape(what: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`wasmHeapKernels: ${what} has shape [${actual}], expected [${expected}]`);
  }
}

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as MaxPoolGradInputs;
  // Kernel attrs arrive as the untyped NamedAttrMap; tfjs-core's maxPool gradient fills exactly these.
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  if (dy == null || input == null) throw new Error('wasmHeapKernels: MaxPoolGrad needs dy and input');
  if (input.shape.length !== 4) throw new Error('wasmHeapKernels: MaxPoolGrad expects a rank-4 input');
  const info = backend_util.computePool2DInfo(
    input.shape as Shape4,
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  assertShape('MaxPoolGrad dy', dy.shape, info.outShape);
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;

  const wasm = wasmBackendOf(backend);
  const out = wasm.makeOutput([...input.shape], 'float32');
  const x = heapF32(wasm, input);
  const g = heapF32(wasm, dy);
  const dx = heapF32(wasm, out);
  const rowStride = w * c;
  if (
    fh === 2 &&
    fw === 2 &&
    sh === 2 &&
    sw === 2 &&
    h === 2 * oh &&
    w === 2 * ow &&
    top === 0 &&
    left === 0
  ) {
    const loops = wasmLoops(wasm);
    if (loops != null) {
      const at = (t: TensorInfo) => heapAddress(wasm, t.dataId);
      const rows = batchSize * oh;
      if (c % 4 === 0) {
        // Split by output rows among the loop team (wasmTeam.ts): output row r reads input rows 2r and 2r + 1.
        splitLoop(loops, 'maxPool2Grad4', rows, 5 * rows * ow * c, (from, to) => [
          at(input) + 16 * from * ow * c,
          at(dy) + 4 * from * ow * c,
          at(out) + 16 * from * ow * c,
          to - from,
          ow,
          c,
        ]);
      } else loops.maxPool2Grad(at(input), at(dy), at(out), rows, ow, c);
    } else {
      tiledMaxPool2Grad(x, g, dx, batchSize * oh, ow, c);
    }
    return out;
  }
  dx.fill(0);
  let gAt = 0;
  for (let b = 0; b < batchSize; b++) {
    const image = b * h * rowStride;
    for (let r = 0; r < oh; r++) {
      const rCorner = r * sh - top;
      const rMin = Math.max(0, rCorner);
      const rMax = Math.min(h, rCorner + fh);
      for (let q = 0; q < ow; q++) {
        const qCorner = q * sw - left;
        const qMin = Math.max(0, qCorner);
        const qMax = Math.min(w, qCorner + fw);
        const corner = image + rMin * rowStride + qMin * c;
        for (let d = 0; d < c; d++, gAt++) {
          // Strictly greater: the first maximum (row-major) wins, and NaN never does (the cpu backend's rule).
          let best = Number.NEGATIVE_INFINITY;
          let bestAt = -1;
          for (let xr = rMin, row = corner + d; xr < rMax; xr++, row += rowStride) {
            for (let at = row, end = row + (qMax - qMin) * c; at < end; at += c) {
              const v = x[at]!;
              if (v > best) {
                best = v;
                bestAt = at;
              }
            }
          }
          if (bestAt >= 0) dx[bestAt] = dx[bestAt]! + g[gAt]!;
        }
      }
    }
  }
  return out;
};

/**
 * MaxPoolGrad for 2x2 windows that tile x exactly (stride 2, no padding), the layout of the presets' pools:
 * every input belongs to one window, so each window writes its four dx values (dy at the argmax, 0 elsewhere)
 * and dx needs no clearing pass. Same rule as the general loop: the first strict maximum, NaN never wins.
 */
export function tiledMaxPool2Grad(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  rows: number,
  ow: number,
  c: number,
): void {
  const rowStride = 2 * ow * c;
  let gAt = 0;
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < ow; q++) {
      const a = 2 * r * rowStride + 2 * q * c;
      const b = a + c;
      const d = a + rowStride;
      const e = d + c;
      for (let k = 0; k < c; k++, gAt++) {
        const va = x[a + k]!;
        const vb = x[b + k]!;
        const vd = x[d + k]!;
        const ve = x[e + k]!;
        let best = va > Number.NEGATIVE_INFINITY ? va : Number.NEGATIVE_INFINITY;
        let at = va > Number.NEGATIVE_INFINITY ? 0 : -1;
        if (vb > best) {
          best = vb;
          at = 1;
        }
        if (vd > best) {
          best = vd;
          at = 2;
        }
        if (ve > best) at = 3;
        const dy = g[gAt]!;
        dx[a + k] = at === 0 ? dy : 0;
        dx[b + k] = at === 1 ? dy : 0;
        dx[d + k] = at === 2 ? dy : 0;
        dx[e + k] = at === 3 ? dy : 0;
      }
    }
  }
}

export interface Im2colGeometry {
  readonly info: backend_util.Conv2DInfo;
  readonly kh: number;
  readonly kw: number;
}

/** The output columns [lo, hi) whose input column for kernel column kj, q * sw + kj - left, lies inside x. */
function insideColumns(kj: number, info: backend_util.Conv2DInfo): [number, number] {
  const { outWidth: ow, inWidth: w, strideWidth: sw } = info;
  const { left } = info.padInfo;
  const lo = Math.min(ow, Math.max(0, Math.ceil((left - kj) / sw)));
  return [lo, Math.max(lo, Math.min(ow, Math.floor((w - 1 + left - kj) / sw) + 1))];
}

/**
 * Writes rows (ki, kj, c) x columns (n, oh, ow) of the transposed im2col matrix for images [n0, n1) from xT,
 * x transposed to [C, N, H, W] so that each row is read in runs along W.
 */
export function fillIm2colT(
  xT: Float32Array,
  cols: Float32Array,
  g: Im2colGeometry,
  n0: number,
  n1: number,
): void {
  const { info, kh, kw } = g;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow } = info;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const { top, left } = info.padInfo;
  const plane = n * h * w;
  let p = 0;
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      const [lo, hi] = insideColumns(kj, info);
      for (let c = 0; c < cin; c++) {
        for (let img = n0; img < n1; img++) {
          for (let r = 0; r < oh; r++) {
            const ih = r * sh + ki - top;
            if (ih < 0 || ih >= h) {
              cols.fill(0, p, p + ow);
              p += ow;
              continue;
            }
            const row = c * plane + (img * h + ih) * w + kj - left;
            let q = 0;
            for (; q < lo; q++) cols[p + q] = 0;
            if (sw === 1) for (; q < hi; q++) cols[p + q] = xT[row + q]!;
            else for (; q < hi; q++) cols[p + q] = xT[row + q * sw]!;
            for (; q < ow; q++) cols[p + q] = 0;
            p += ow;
          }
        }
      }
    }
  }
}

/**
 * `fillIm2colT` by the wasm loop (wasmLoops.ts), one call per matrix row (ki, kj, c), from x at byte address
 * `src`: as it is ([N, H, W, C], `channelsLast`), a gather that needs no transposed copy of x, or transposed
 * to [C, N, H, W] like the JS loop's, whose rows are copied as blocks at stride 1. The gather wins where the
 * matrix is not much bigger than x (strided convs); at stride 1 (each x value in kh x kw rows) the copy does.
 */
export function fillIm2colTWasm(
  loops: WasmLoops,
  src: number,
  cols: number,
  g: Im2colGeometry,
  n0: number,
  n1: number,
  channelsLast: boolean,
): void {
  const { info, kh, kw } = g;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow } = info;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const { top, left } = info.padInfo;
  const rowFloats = (n1 - n0) * oh * ow;
  const pix = channelsLast ? cin : 1;
  // Per (ki, kj), the cin rows' calls differ by a constant step in their target and source: split among the
  // loop team (wasmTeam.ts) as a set of calls.
  const channelStep = channelsLast ? 4 : 4 * n * h * w;
  const steps = [4 * rowFloats, channelStep, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      const [lo, hi] = insideColumns(kj, info);
      const p = cols + 4 * rowFloats * cin * (ki * kw + kj);
      const first = channelsLast ? n0 * h * w * cin : n0 * h * w;
      const args = [
        p,
        src + 4 * first,
        n1 - n0,
        oh,
        ow,
        h,
        w,
        sh,
        sw * pix,
        ki - top,
        kj - left,
        lo,
        hi,
        pix,
      ];
      splitCalls(loops, 'im2colRows', cin, cin * rowFloats, args, steps);
    }
  }
}

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as Conv2DBackpropFilterInputs;
  // Kernel attrs arrive as the untyped NamedAttrMap; tfjs-core's conv2DBackpropFilter op fills exactly these.
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs;
  if (x == null || dy == null) throw new Error('wasmHeapKernels: Conv2DBackpropFilter needs x and dy');
  if (dataFormat === 'NCHW') {
    // wasm's Conv2D itself only runs channelsLast, so nothing upstream produces NCHW here.
    throw new Error("wasmHeapKernels: Conv2DBackpropFilter supports dataFormat 'NHWC' only, got 'NCHW'");
  }
  if (x.shape.length !== 4) throw new Error('wasmHeapKernels: Conv2DBackpropFilter expects a rank-4 x');
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const [kh, kw, cin, cout] = filterShape;
  const n = info.batchSize;
  const perImage = info.outHeight * info.outWidth;
  assertShape('Conv2DBackpropFilter dy', dy.shape, [n, info.outHeight, info.outWidth, cout]);
  const k = kh * kw * cin;
  const chunk = Math.max(1, Math.floor(MAX_IM2COL_FLOATS / (k * perImage)));
  const wasm = wasmBackendOf(backend);

  const loops = wasmLoops(wasm);
  if (loops != null && winogradFilterGradApplies(info)) return winogradFilterGrad(wasm, loops, x, dy, info);
  if (canUseShifted(info)) return composite(backend, (s) => conv2DFilterGradShifted(s, backend, x, dy, info));
  return composite(backend, (s) => {
    // x transposed to [C, N, H, W], except for the wasm loop's gather (see fillIm2colTWasm).
    const gather = loops != null && (info.strideHeight > 1 || info.strideWidth > 1);
    const xT = gather ? x : s.run('Transpose', { x }, { perm: [3, 0, 1, 2] });
    const dy2 = s.reshape(dy, [n * perImage, cout]);
    // The wasm loop's product sums into one output chunk after chunk, reading dy in place (wasmLongProduct.ts).
    const long = loops != null && longProductFits(k, cout) ? s.output([k, cout]) : undefined;
    let total: TensorInfo | undefined;
    for (let n0 = 0; n0 < n; n0 += chunk) {
      const n1 = Math.min(n, n0 + chunk);
      const cols = s.output([k, (n1 - n0) * perImage]);
      if (loops != null) {
        fillIm2colTWasm(
          loops,
          heapAddress(wasm, xT.dataId),
          heapAddress(wasm, cols.dataId),
          { info, kh, kw },
          n0,
          n1,
          gather,
        );
      } else {
        // Views after the allocation: it may have grown (and so detached) the heap.
        fillIm2colT(heapF32(wasm, xT), heapF32(wasm, cols), { info, kh, kw }, n0, n1);
      }
      if (long != null && loops != null) {
        const pixels = (n1 - n0) * perImage;
        const dyAt = heapAddress(wasm, dy.dataId) + 4 * n0 * perImage * cout;
        longProduct(
          loops,
          heapAddress(wasm, cols.dataId),
          dyAt,
          heapAddress(wasm, long.dataId),
          k,
          pixels,
          cout,
          4 * pixels,
          n0 > 0,
        );
        total = long;
        continue;
      }
      const dyPart =
        n1 - n0 === n
          ? dy2
          : s.run('Slice', { x: dy2 }, { begin: [n0 * perImage, 0], size: [(n1 - n0) * perImage, cout] });
      const part = s.run('BatchMatMul', { a: cols, b: dyPart }, { transposeA: false, transposeB: false });
      total = total == null ? part : s.run('Add', { a: total, b: part });
    }
    if (total == null) throw new Error('wasmHeapKernels: Conv2DBackpropFilter got an empty batch');
    return s.reshape(total, [kh, kw, cin, cout]);
  });
};

export const heapKernels = { maxPoolGrad, conv2DBackpropFilter };
