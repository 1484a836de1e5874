/**
 * 3x3 stride-1 'same' convolutions on wasm by Winograd's F(2x2, 3x3) (docs/design.md §5, wasm training
 * kernels): each 2x2 output block of a channel pair is A^T [(G g G^T) . (B^T d B)] A over a 4x4 input tile d,
 * so across channels the work is 16 matrix products [tiles, cin] x [cin, cout] (XNNPACK's fully-connected
 * operator) between three cheap transforms (wasmWinogradLoops.ts): 16 multiplies per 2x2 block where the
 * direct convolution does 36. It takes over wasm's Conv2D and FusedConv2D (bias, ReLU) where it applies: the
 * forward pass of VGG and ResNet stages, the frozen teacher's pass, and the stride-1 input gradient, which
 * wasmGradients.ts computes as such a Conv2D. Everything else runs wasm's own kernel. The rounding differs from
 * the direct sum's (the transforms add a few terms first); tested against the cpu backend.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DAttrs,
  type Conv2DInputs,
  type FusedConv2DAttrs,
  type FusedConv2DInputs,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { heapF32, KernelScope, wasmBackendOf, withAlias } from './kernelScope';
import { heapAddress, type WasmLoops, wasmLoops } from './wasmLoops';
import { longProductBatch, longProductFits } from './wasmLongProduct';
import { splitLoop } from './wasmTeam';

type Shape4 = [number, number, number, number];

/** Largest transformed input or product set held at once (floats): 32 MiB; bigger batches go in chunks of images. */
export const MAX_WINOGRAD_FLOATS = 1 << 23;

/**
 * Below this many input channels the products are too thin (XNNPACK's rate falls with the inner dimension)
 * for 16 of them and the transforms to beat one direct convolution (measured on this project's machine:
 * VGG-Fast's 32-channel stage gains, ResNet-8's 16-channel one does not).
 */
export const MIN_WINOGRAD_CHANNELS = 32;

/**
 * Whether F(2x2, 3x3) computes this convolution here: 3x3, stride 1, 'same', even map sides, channels by 4, at
 * least MIN_WINOGRAD_CHANNELS input channels, and the path not turned off.
 */
export function winogradApplies(info: backend_util.Conv2DInfo): boolean {
  const { padInfo } = info;
  return (
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    padInfo.top === 1 &&
    padInfo.bottom === 1 &&
    padInfo.left === 1 &&
    padInfo.right === 1 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth &&
    info.inHeight % 2 === 0 &&
    info.inWidth % 2 === 0 &&
    info.dataFormat === 'channelsLast' &&
    info.inChannels % 4 === 0 &&
    info.outChannels % 4 === 0 &&
    info.inChannels >= MIN_WINOGRAD_CHANNELS &&
    enabled
  );
}

/**
 * Floats from one of the 16 transform matrices to the next, for `size` floats each: one cache line more than a
 * multiple of 16, so that the 16 write streams of a transform do not all map to the same cache sets. Sizes that
 * are multiples of 4 KiB did (every stride of a batch of 64), and made the input transform 4.7x slower
 * ([64, 16, 16, 32]: 2.2 -> 0.47 ms).
 */
export const skewed = (size: number) => Math.ceil(size / 16) * 16 + 16;

let calls = 0;
let enabled = true;

/** Turns the path off and on (profiling scripts compare it with wasm's direct convolution); on by default. */
export function setWinogradEnabled(on: boolean): void {
  enabled = on;
}

/** How many convolutions and filter gradients have run by F(2x2, 3x3) so far: tests tell by it that the path was taken. */
export const winogradCalls = () => calls;

/** Counts one run of the path (winogradFilterGrad.ts counts its own). */
export function countWinogradCall(): void {
  calls++;
}

/** Images per chunk, so that no transform or product set exceeds MAX_WINOGRAD_FLOATS. */
export function imagesPerChunk(info: backend_util.Conv2DInfo): number {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k } = info;
  return Math.max(1, Math.min(n, Math.floor(MAX_WINOGRAD_FLOATS / (4 * h * w * Math.max(c, k)))));
}

/**
 * B^T d B of every 4x4 tile of images [first, first + images) of x, zero-padded: 16 matrices [tiles, cin],
 * `vStride` floats apart (skewed), in `s`.
 */
export function inputTiles(
  s: KernelScope,
  loops: WasmLoops,
  x: TensorInfo,
  first: number,
  images: number,
  info: backend_util.Conv2DInfo,
): { v: TensorInfo; vStride: number } {
  const { inHeight: h, inWidth: w, inChannels: c } = info;
  const wasm = s.wasm;
  const at = (t: TensorInfo) => heapAddress(wasm, t.dataId);
  // Padded by the lab's loop rather than PadV2, split by images like the transform: each thread then reads the
  // images it padded itself, from its own cache (the helper's half of the transform waited on the caller's
  // cache otherwise), and no pass runs on one thread alone.
  const padded = s.output([images, h + 2, w + 2, c]);
  splitLoop(loops, 'padImages', images, 2 * images * (h + 2) * (w + 2) * c, (from, to) => [
    at(padded) + 4 * from * (h + 2) * (w + 2) * c,
    at(x) + 4 * (first + from) * h * w * c,
    to - from,
    h,
    w,
    c,
  ]);
  const vStride = skewed(images * (h / 2) * (w / 2) * c);
  const v = s.output([16 * vStride]);
  // Split by images among the loop team (wasmTeam.ts): image i's tiles are rows i th tw.. of every matrix.
  const [th, tw] = [h / 2, w / 2];
  splitLoop(loops, 'winogradInput', images, 16 * images * th * tw * c, (from, to) => [
    at(padded) + 4 * from * (h + 2) * (w + 2) * c,
    at(v) + 4 * from * th * tw * c,
    to - from,
    th,
    tw,
    c,
    4 * vStride,
  ]);
  return { v, vStride };
}

/**
 * One of the 16 products, [rows, inner] x [inner, cols], both operands aliases into larger buffers, by wasm's
 * BatchMatMul (XNNPACK's fully-connected operator). Tried and dropped: the same product as a 1x1 Conv2D (also
 * XNNPACK, threaded in tfjs's threaded build): VGG-Fast's browser step 205 ms with 2 threads against 208, but
 * 246 against 229 single-threaded.
 */
export function product(
  s: KernelScope,
  left: { of: TensorInfo; at: number; rows: number; inner: number },
  right: { of: TensorInfo; at: number; cols: number },
): TensorInfo {
  const wasm = s.wasm;
  return withAlias(wasm, left.of, left.at, [1, left.rows, left.inner], (a) =>
    withAlias(wasm, right.of, right.at, [1, left.inner, right.cols], (b) =>
      s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }),
    ),
  );
}

/** conv(x, filter) (+ bias, then ReLU when asked) by F(2x2, 3x3), in chunks of images. */
function winogradConv(
  wasm: BackendWasm,
  loops: WasmLoops,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  relu: boolean,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k } = info;
  const th = h / 2,
    tw = w / 2;
  const chunk = imagesPerChunk(info);
  const at = (t: TensorInfo) => heapAddress(wasm, t.dataId);
  const out = wasm.makeOutput([n, h, w, k], 'float32');
  countWinogradCall();
  const filters = new KernelScope(wasm);
  try {
    const uStride = skewed(c * k);
    const u = filters.output([16 * uStride]);
    loops.winogradFilter(at(filter), at(u), c, k, 4 * uStride);
    for (let first = 0; first < n; first += chunk) {
      const images = Math.min(chunk, n - first);
      const tiles = images * th * tw;
      const s = new KernelScope(wasm);
      try {
        const { v, vStride } = inputTiles(s, loops, x, first, images, info);
        // The lab's product loop where it fits (wasmLongProduct.ts): it packs nothing and costs one call per
        // product, where XNNPACK packs the transformed filter afresh for each of the 16 (batch 10, 8x8 maps,
        // 64 -> 64: 1.15 -> 0.81 ms; batch 64, 4x4, 128 -> 256: 11.8 -> 9.5).
        const long = longProductFits(tiles, k, c) ? s.output([16, tiles, k]) : null;
        const products = Array.from({ length: 16 }, (_, xi) =>
          long == null
            ? at(
                product(
                  s,
                  { of: v, at: xi * vStride, rows: tiles, inner: c },
                  { of: u, at: xi * uStride, cols: k },
                ),
              )
            : at(long) + 4 * xi * tiles * k,
        );
        if (long != null) {
          const steps = [4 * vStride, 4 * uStride, 4 * tiles * k] as const;
          longProductBatch(loops, 16, [at(v), at(u), at(long)], steps, tiles, c, k, 4 * c, false);
        }
        // Split by images among the loop team: the part from image i reads the products from their row i th tw
        // on, through a table of its own (16 per image, so that parts never share one). The tables are written
        // after the last allocation (views detach when the heap grows).
        const tables = s.output([16 * images]);
        const y = at(out) + 4 * first * h * w * k;
        splitLoop(loops, 'winogradOutput', images, 32 * tiles * k, (from, to) => {
          const view = heapF32(wasm, tables);
          const rowBytes = 4 * from * th * tw * k;
          new Int32Array(view.buffer, view.byteOffset + 64 * from, 16).set(products.map((p) => p + rowBytes));
          const part = [at(tables) + 64 * from, y + 4 * from * h * w * k, bias ? at(bias) : 0];
          return [...part, to - from, th, tw, k, relu ? 1 : 0];
        });
      } finally {
        s.disposeAllBut(undefined);
      }
    }
  } catch (error) {
    wasm.disposeData(out.dataId);
    throw error;
  } finally {
    filters.disposeAllBut(undefined);
  }
  return out;
}

function convInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs | FusedConv2DAttrs) {
  return backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filter.shape as Shape4,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'),
  );
}

const float32 = (...ts: (TensorInfo | undefined)[]) => ts.every((t) => t == null || t.dtype === 'float32');

/** wasm's Conv2D, by F(2x2, 3x3) where that applies; `original` returns wasm's own. */
export function winogradConv2D(original: () => KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter } = args.inputs as Conv2DInputs;
    // Kernel attrs arrive as the untyped NamedAttrMap; tfjs-core's conv2d op fills exactly these.
    const attrs = args.attrs as unknown as Conv2DAttrs;
    const wasm = wasmBackendOf(args.backend);
    const loops = wasmLoops(wasm);
    if (x == null || filter == null || loops == null || x.shape.length !== 4 || !float32(x, filter)) {
      return original()(args);
    }
    const info = convInfo(x, filter, attrs);
    if (!winogradApplies(info)) return original()(args);
    return winogradConv(wasm, loops, x, filter, undefined, false, info);
  };
}

/** wasm's FusedConv2D with no activation or ReLU, by F(2x2, 3x3) where that applies; `original` returns wasm's own. */
export function winogradFusedConv2D(original: () => KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as FusedConv2DInputs;
    // See winogradConv2D: the fused conv2d op fills exactly these.
    const attrs = args.attrs as unknown as FusedConv2DAttrs;
    const wasm = wasmBackendOf(args.backend);
    const loops = wasmLoops(wasm);
    const activation = attrs.activation ?? 'linear';
    if (
      x == null ||
      filter == null ||
      loops == null ||
      preluActivationWeights != null ||
      (activation !== 'linear' && activation !== 'relu') ||
      x.shape.length !== 4 ||
      !float32(x, filter, bias)
    ) {
      return original()(args);
    }
    const info = convInfo(x, filter, attrs);
    const biasFits = bias == null || bias.shape.reduce((p, d) => p * d, 1) === info.outChannels;
    if (!biasFits || !winogradApplies(info)) return original()(args);
    return winogradConv(wasm, loops, x, filter, bias, activation === 'relu', info);
  };
}
