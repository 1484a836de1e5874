/**
 * The filter gradient of a 3x3 stride-1 'same' convolution by Winograd's F(2x2, 3x3) (docs/design.md §5,
 * wasm training kernels). The forward pass is y = A^T [(G g G^T) . (B^T d B)] A per tile; differentiating the
 * sum of dy . y over the filter gives dW = G^T [sum over tiles of (A dy_t A^T) . (B^T d_t B)] G. So dW is 16
 * matrix products S = V^T W with the tiles as the summed dimension (V: x's tile transforms, as in the forward
 * pass; W: dy's), then one small 16 -> 9 transform per (c, k): 16 multiplies per 2x2 output block where
 * im2col's product does 36. XNNPACK packs each product's right operand ([tiles, channels]) afresh, so by
 * XNNPACK the path pays on small maps only (MAX_FILTER_GRAD_PIXELS); by the lab's long-inner loop, which reads
 * the operands in place, up to 32x32 (MAX_LONG_FILTER_GRAD_PIXELS).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, KernelScope } from './kernelScope';
import { heapAddress, type WasmLoops } from './wasmLoops';
import { longProductBatch, longProductFits } from './wasmLongProduct';
import { splitCalls, splitLoop } from './wasmTeam';
import {
  countWinogradCall,
  imagesPerChunk,
  inputTiles,
  product,
  skewed,
  winogradApplies,
} from './winogradConv';

/**
 * Above this many pixels per map, dW by F(2x2, 3x3) loses to the im2col and shifted-window paths. Its products
 * sum over the tiles, so their right operand (the side with fewer channels, which XNNPACK packs afresh for
 * each of the 16) grows with the map: measured at batch 64, CPU ms, old path -> this one: 32x32x16 -> 16:
 * 21 -> 40; 16x16x32 -> 64: 31 -> 33; 8x8x64 -> 128: 27 -> 23; 8x8x128 -> 64: 28 -> 22; 4x4x128 -> 256: 26 -> 17.
 */
export const MAX_FILTER_GRAD_PIXELS = 64;

/**
 * Where the products go to the lab's long-inner loop (wasmLongProduct.ts), which packs nothing, the path wins up
 * to 32x32 maps: CPU ms at batch 64, shifted windows -> this path, 16x16x32 -> 32: 12.4 -> 8.4; 16x16x32 -> 64:
 * 23.6 -> 15.6; 32x32x32 -> 32: 52.7 -> 41.0; 32x32x32 -> 64: 101 -> 71 (batch 10, 16x16x32 -> 32: 1.74 -> 1.17).
 */
export const MAX_LONG_FILTER_GRAD_PIXELS = 1024;

/** Whether dW of this convolution goes by F(2x2, 3x3): small maps whose tiles per image divide by 4 (the block transpose). */
export function winogradFilterGradApplies(info: backend_util.Conv2DInfo): boolean {
  const pixels = info.inHeight * info.inWidth;
  const { inChannels: c, outChannels: k } = info;
  const maxPixels = longProductFits(Math.max(c, k), Math.min(c, k))
    ? MAX_LONG_FILTER_GRAD_PIXELS
    : MAX_FILTER_GRAD_PIXELS;
  return winogradApplies(info) && pixels <= maxPixels && (pixels / 4) % 4 === 0;
}

/** dW [3, 3, cin, cout] of conv(x, W) from x and dy, in chunks of images, summed. */
export function winogradFilterGrad(
  wasm: BackendWasm,
  loops: WasmLoops,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k } = info;
  const th = h / 2,
    tw = w / 2;
  const chunk = imagesPerChunk(info);
  const at = (t: TensorInfo) => heapAddress(wasm, t.dataId);
  const dw = wasm.makeOutput([3, 3, c, k], 'float32');
  countWinogradCall();
  try {
    for (let first = 0; first < n; first += chunk) {
      const images = Math.min(chunk, n - first);
      const tiles = images * th * tw;
      const s = new KernelScope(wasm);
      try {
        const { v, vStride } = inputTiles(s, loops, x, first, images, info);
        const dyStride = skewed(tiles * k);
        const dyT = s.output([16 * dyStride]);
        splitLoop(loops, 'winogradGradTiles', images, 20 * tiles * k, (from, to) => [
          at(dy) + 4 * (first + from) * h * w * k,
          at(dyT) + 4 * from * th * tw * k,
          to - from,
          th,
          tw,
          k,
          4 * dyStride,
        ]);
        // S = V^T W as [c, k] (dW's order), or W^T V as [k, c] and then transposed.
        const natural = { left: v, leftStride: vStride, right: dyT, rightStride: dyStride, rows: c, cols: k };
        const swapped = { left: dyT, leftStride: dyStride, right: v, rightStride: vStride, rows: k, cols: c };
        // The lab's loop reads both operands in place, the left one transposed as it lies ([tiles, rows]):
        // wasmLongProduct.ts. XNNPACK packs the right operand afresh for each product, and packing [tiles,
        // channels] costs more than it saves when the channels are the few: so there the side with more
        // channels goes left, transposed first.
        const long = longProductFits(c, k) ? natural : longProductFits(k, c) ? swapped : null;
        const { left, leftStride, right, rightStride, rows, cols } = long ?? (c >= k ? natural : swapped);
        let products: number[];
        if (long != null) {
          const out = at(s.output([16, rows, cols]));
          const steps = [4 * leftStride, 4 * rightStride, 4 * rows * cols] as const;
          longProductBatch(
            loops,
            16,
            [at(left), at(right), out],
            steps,
            rows,
            tiles,
            cols,
            4,
            false,
            4 * rows,
          );
          products = Array.from({ length: 16 }, (_, xi) => out + 4 * xi * rows * cols);
        } else {
          const leftT = s.output([16, rows, tiles]);
          // 16 transposes, split among the loop team (wasmTeam.ts).
          const steps = [4 * leftStride, 4 * rows * tiles, 0, 0, 0];
          splitCalls(
            loops,
            'transpose4',
            16,
            32 * rows * tiles,
            [at(left), at(leftT), tiles, rows, 1],
            steps,
          );
          products = Array.from({ length: 16 }, (_, xi) =>
            at(
              product(
                s,
                { of: leftT, at: xi * rows * tiles, rows, inner: tiles },
                { of: right, at: xi * rightStride, cols },
              ),
            ),
          );
        }
        // [k, c] products (dy's side on the left) are transposed to [c, k], into one buffer.
        let addresses = products;
        if (left !== v) {
          const sums = s.output([16, c, k]);
          const to = (xi: number) => at(sums) + 4 * xi * c * k;
          if (long != null) {
            // The products lie 4 c k bytes apart: 16 calls split among the loop team.
            const steps = [4 * c * k, 4 * c * k, 0, 0, 0];
            splitCalls(loops, 'transpose4', 16, 32 * c * k, [products[0]!, to(0), k, c, 1], steps);
          } else products.forEach((product, xi) => loops.transpose4(product, to(xi), k, c, 1));
          addresses = products.map((_, xi) => to(xi));
        }
        // The products' addresses as i32s, written after the last allocation (views detach when the heap grows).
        const table = s.output([16]);
        const view = heapF32(wasm, table);
        new Int32Array(view.buffer, view.byteOffset, 16).set(addresses);
        loops.winogradGradFilter(at(table), at(dw), c, k, first > 0 ? 1 : 0);
      } finally {
        s.disposeAllBut(undefined);
      }
    }
  } catch (error) {
    wasm.disposeData(dw.dataId);
    throw error;
  }
  return dw;
}
