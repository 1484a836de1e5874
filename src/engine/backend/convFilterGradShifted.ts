/**
 * dW of a stride-1 conv without an im2col matrix (docs/design.md §5, wasm training kernels). Every image is
 * laid on a zero-padded grid of hg x wg cells, x channel-major as xG[c, cell] and dy as dyG[cell, cout]
 * with zeros in the cells no output sits in. Then, for kernel offset (ki, kj),
 *   dW[ki, kj] = xG[:, off : off + cells] . dyG,   off = ki * wg + kj,
 * because output cell (oh, ow) reads grid cell (oh + ki, ow + kj) of its own image. The shifted block of xG
 * is a contiguous [cin, cells] window (rows a fixed stride apart), so it is handed to wasm's BatchMatMul
 * (XNNPACK's fully-connected operator) as an alias of xG's memory, not a copy; dyG is packed by XNNPACK
 * once and reused by all kh x kw products. A window row that runs past its channel's cells into the next
 * channel's (or into the zero tail) only meets zero rows of dyG.
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, type KernelScope, withAlias, wasmBackendOf } from './kernelScope';

/** Below this many input channels the alias products are too thin to beat the im2col path. */
export const MIN_SHIFTED_CHANNELS = 8;

/**
 * Whether this path beats the im2col one, by a cost model fitted to both on this project's x86 machine (CPU ns,
 * wasm SIMD, one thread): im2col costs ~3.5 per matrix element (the loop that writes it, XNNPACK reading it)
 * plus ~0.052 per multiply-add; the shifted windows cost ~0.1 per multiply-add (thin, long products) over the
 * padded grid, whose extra cells hurt small maps. So it wins where dW has few output channels on large maps
 * (ResNet-8's first stage: 20 vs 41 ms at batch 64) and loses on small maps with many channels.
 */
export function canUseShifted(info: backend_util.Conv2DInfo): boolean {
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return false;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return false;
  if (info.inChannels < MIN_SHIFTED_CHANNELS) return false;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const outputs = info.batchSize * info.outHeight * info.outWidth;
  const { hg, wg } = gridOf(info);
  const cells = info.batchSize * hg * wg;
  const im2col = k * outputs * (3.5 + 0.052 * info.outChannels);
  const shifted = k * cells * info.outChannels * 0.1;
  return shifted < im2col;
}

/** The padded grid every image is laid on: big enough for every window of every output cell. */
function gridOf(info: backend_util.Conv2DInfo): { hg: number; wg: number } {
  return {
    hg: Math.max(info.outHeight + info.filterHeight - 1, info.inHeight + info.padInfo.top),
    wg: Math.max(info.outWidth + info.filterWidth - 1, info.inWidth + info.padInfo.left),
  };
}

export function conv2DFilterGradShifted(
  s: KernelScope,
  backend: unknown,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const wasm = wasmBackendOf(backend);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const { hg, wg } = gridOf(info);
  const perImage = hg * wg;
  const cells = n * perImage;
  const tail = (kh - 1) * wg + (kw - 1);

  const xT = s.run('Transpose', { x }, { perm: [3, 0, 1, 2] });
  const xG = s.output([cin * cells + tail]);
  const dyG = s.output([cells, cout]);
  {
    const src = heapF32(wasm, xT);
    const grid = heapF32(wasm, xG);
    grid.fill(0);
    for (let c = 0; c < cin; c++) {
      for (let img = 0; img < n; img++) {
        let from = (c * n + img) * h * w;
        let to = c * cells + img * perImage + top * wg + left;
        for (let r = 0; r < h; r++, from += w, to += wg) {
          for (let q = 0; q < w; q++) grid[to + q] = src[from + q]!;
        }
      }
    }
    const g = heapF32(wasm, dy);
    const gGrid = heapF32(wasm, dyG);
    gGrid.fill(0);
    const run = ow * cout;
    for (let img = 0; img < n; img++) {
      for (let r = 0; r < oh; r++) {
        const from = (img * oh + r) * run;
        gGrid.set(g.subarray(from, from + run), (img * perImage + r * wg) * cout);
      }
    }
  }
  const dyMatrix = s.reshape(dyG, [cells, cout]);
  const parts: TensorInfo[] = [];
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      const part = withAlias(wasm, xG, ki * wg + kj, [cin, cells], (a) =>
        s.run('BatchMatMul', { a, b: dyMatrix }, { transposeA: false, transposeB: false }),
      );
      parts.push(part);
    }
  }
  const out = s.output([kh, kw, cin, cout]);
  const dw = heapF32(wasm, out);
  parts.forEach((part, k) => dw.set(heapF32(wasm, part), k * cin * cout));
  return out;
}
