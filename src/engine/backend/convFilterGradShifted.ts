/**
 * dW of a stride-1 conv without an im2col matrix (docs/design.md §5, wasm training kernels). Every image is
 * laid on a zero-padded grid of hg x wg cells, x channel-major as xG[c, cell] and dy as dyG[cell, cout] with
 * zeros in the cells no output sits in. Then, for kernel offset (ki, kj),
 *   dW[ki, kj] = xG[:, off : off + cells] . dyG,   off = ki * wg + kj,
 * because output cell (oh, ow) reads grid cell (oh + ki, ow + kj) of its own image. The shifted block of xG
 * is a contiguous [cin, cells] window (rows a fixed stride apart), so it is handed to wasm's BatchMatMul
 * (XNNPACK's fully-connected operator) as an alias of xG's memory, not a copy; dyG is packed by XNNPACK
 * once and reused by all kh x kw products. Where dW's columns fit the lab's long-inner loop
 * (wasmLongProduct.ts), it reads the windows and dyG in place instead and packs nothing. A window that runs past its image's rows or columns reads the
 * next image's (or row's) first ones, and the grid is sized so that those are padding in truth and zeros on
 * the grid: one padding row and column serve as the bottom/right padding of one image and the top/left of
 * the next, so a 3x3 'same' conv's grid has (h + 1) x (w + 1) cells per image, not (h + 2) x (w + 2). A
 * window row that runs past its channel's cells into the next channel's (or into the zero tail) only meets
 * zero rows of dyG or such padding. When the grid is exactly the output map (a 1x1 'valid' conv), dy itself
 * is dyG.
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, type KernelScope, withAlias, wasmBackendOf } from './kernelScope';
import { heapAddress, wasmLoops } from './wasmLoops';
import { longProduct, longProductFits } from './wasmLongProduct';
import { splitCalls } from './wasmTeam';

/** Below this many input channels the alias products are too thin to beat the im2col path. */
export const MIN_SHIFTED_CHANNELS = 8;

/**
 * The smallest grid size along one axis, at least the output's, for which every window that runs past an
 * image's grid lands on padding in truth and on padding (zeros) of the next image's grid.
 */
export function gridSize(kernel: number, inSize: number, outSize: number, padBefore: number): number {
  const isData = (i: number) => i - padBefore >= 0 && i - padBefore < inSize;
  // The last grid position any output reads.
  const lastRead = outSize - 1 + kernel - 1;
  const fits = (size: number) => {
    for (let i = size; i <= lastRead; i++) {
      if (isData(i) || i - size >= size || isData(i - size)) return false;
    }
    return true;
  };
  let size = outSize;
  while (!fits(size)) size++;
  return size;
}

/**
 * Whether this path beats the im2col one, by a cost model fitted to both on this project's x86 machine (CPU ns,
 * wasm SIMD, one thread): im2col costs ~2.5 per matrix element (the loop that writes it) plus ~0.07 per
 * multiply-add; the shifted windows cost the same per multiply-add but over the grid's cells, whose padding
 * cells are extra work (small maps have relatively more of them), plus laying x and dy on the grid. So it wins
 * on large maps with few channels (ResNet-8's 32x32 and 16x16 stages) and loses on small maps with many.
 * Strides above 1 are not taken: split into stride phases, this path measured slower than im2col on every
 * strided ResNet-8 conv.
 */
export function canUseShifted(info: backend_util.Conv2DInfo): boolean {
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return false;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return false;
  if (info.inChannels < MIN_SHIFTED_CHANNELS) return false;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const outputs = info.batchSize * info.outHeight * info.outWidth;
  const { hg, wg } = gridOf(info);
  const cells = info.batchSize * hg * wg;
  const perMac = 0.07;
  const im2col = k * outputs * (2.5 + perMac * info.outChannels);
  const shifted =
    k * cells * info.outChannels * perMac + 1.5 * cells * info.inChannels + 2 * cells * info.outChannels;
  return shifted < im2col;
}

/** The padded grid every image is laid on. */
function gridOf(info: backend_util.Conv2DInfo): { hg: number; wg: number } {
  return {
    hg: gridSize(info.filterHeight, info.inHeight, info.outHeight, info.padInfo.top),
    wg: gridSize(info.filterWidth, info.inWidth, info.outWidth, info.padInfo.left),
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
  // Zeros after the last channel for its furthest window.
  const tail = (kh - 1) * wg + (kw - 1);
  // x's rows and columns that lie on the grid (the others are never read).
  const rowsOn = Math.min(h, hg - top);
  const colsOn = Math.min(w, wg - left);

  const loops = wasmLoops(wasm);
  // The JS loop reads x transposed to [C, N, H, W]; the wasm loop gathers from x as it is.
  const xT = loops == null ? s.run('Transpose', { x }, { perm: [3, 0, 1, 2] }) : x;
  const xG = s.output([cin * cells + tail]);
  const dense = hg === oh && wg === ow;
  const dyG = dense ? dy : s.output([cells, cout]);
  {
    const src = heapF32(wasm, xT);
    const grid = heapF32(wasm, xG);
    grid.fill(0);
    if (loops != null) {
      // One call per channel and image: its rows on the grid, every cin-th float of x. Per channel, the images'
      // calls split among the loop team (wasmTeam.ts).
      const xAt = heapAddress(wasm, x.dataId);
      const gridAt = heapAddress(wasm, xG.dataId);
      const steps = [4 * perImage, 4 * h * w * cin, 0, 0, 0, 0, 0];
      for (let c = 0; c < cin; c++) {
        const to = c * cells + top * wg + left;
        const args = [gridAt + 4 * to, xAt + 4 * c, rowsOn, colsOn, 4 * wg, 4 * w * cin, 4 * cin];
        splitCalls(loops, 'gatherRuns', n, 2 * n * rowsOn * colsOn, args, steps);
      }
    }
    for (let c = 0; loops == null && c < cin; c++) {
      for (let img = 0; img < n; img++) {
        let from = (c * n + img) * h * w;
        let to = c * cells + img * perImage + top * wg + left;
        for (let r = 0; r < rowsOn; r++, from += w, to += wg) {
          for (let q = 0; q < colsOn; q++) grid[to + q] = src[from + q]!;
        }
      }
    }
    if (!dense) {
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
  }
  if (loops != null && longProductFits(cin, cout)) {
    // The wasm loop reads each shifted window and dyG in place and writes dW[ki, kj] straight into the output.
    const out = s.output([kh, kw, cin, cout]);
    const [xAt, dyAt, outAt] = [xG, dyG, out].map((t) => heapAddress(wasm, t.dataId)) as [
      number,
      number,
      number,
    ];
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const dwAt = outAt + 4 * (ki * kw + kj) * cin * cout;
        longProduct(loops, xAt + 4 * (ki * wg + kj), dyAt, dwAt, cin, cells, cout, 4 * cells, false);
      }
    }
    return out;
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
