/**
 * The filter gradient of a 3x3 stride-1 'same' convolution by Winograd's F(2x2, 3x3) (docs/design.md §5,
 * wasm training kernels). The forward pass is y = A^T [(G g G^T) . (B^T d B)] A per tile; differentiating the
 * sum of dy . y over the filter gives dW = G^T [sum over tiles of (A dy_t A^T) . (B^T d_t B)] G. So dW is 16
 * matrix products S = V^T W with the tiles as the summed dimension (V: x's tile transforms, as in the forward
 * pass; W: dy's), which XNNPACK runs near its best rate because that dimension is long, then one small 16 ->
 * 9 transform per (c, k): 16 multiplies per 2x2 output block where im2col's product does 36.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, KernelScope, withAlias } from './kernelScope';
import { heapAddress, type WasmLoops } from './wasmLoops';
import { countWinogradCall, MAX_WINOGRAD_FLOATS, winogradApplies } from './winogradConv';

/**
 * Below this many input channels dW by F(2x2, 3x3) loses to the im2col and shifted-window paths. Its products
 * have the tiles as the summed dimension and dy's transform as XNNPACK's weights, packed afresh for each of the
 * 16: on large maps that packing dominates (VGG-Fast's 16x16x32 stage: 30 -> 38 CPU ms), on small maps with many
 * channels the fewer multiplies win (8x8x64 -> 128: 28 -> 26; 4x4x128 -> 256: 27 -> 18).
 */
export const MIN_FILTER_GRAD_CHANNELS = 64;

/** Whether dW of this convolution goes by F(2x2, 3x3): tiles per image must divide by 4 (the block transpose). */
export function winogradFilterGradApplies(info: backend_util.Conv2DInfo): boolean {
  return (
    winogradApplies(info, MIN_FILTER_GRAD_CHANNELS) && ((info.inHeight / 2) * (info.inWidth / 2)) % 4 === 0
  );
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
  const chunk = Math.max(1, Math.min(n, Math.floor(MAX_WINOGRAD_FLOATS / (16 * th * tw * Math.max(c, k)))));
  const at = (t: TensorInfo) => heapAddress(wasm, t.dataId);
  const dw = wasm.makeOutput([3, 3, c, k], 'float32');
  countWinogradCall();
  try {
    for (let first = 0; first < n; first += chunk) {
      const images = Math.min(chunk, n - first);
      const tiles = images * th * tw;
      const s = new KernelScope(wasm);
      try {
        const xs = withAlias(wasm, x, first * h * w * c, [images, h, w, c], (part) =>
          s.run(
            'PadV2',
            { x: part },
            {
              paddings: [
                [0, 0],
                [1, 1],
                [1, 1],
                [0, 0],
              ],
              constantValue: 0,
            },
          ),
        );
        const v = s.output([16, tiles, c]);
        const vT = s.output([16, c, tiles]);
        const dyT = s.output([16, tiles, k]);
        loops.winogradInput(at(xs), at(v), images, th, tw, c);
        loops.transpose4(at(v), at(vT), tiles, c, 16);
        loops.winogradGradTiles(at(dy) + 4 * first * h * w * k, at(dyT), images, th, tw, k);
        const products = Array.from({ length: 16 }, (_, xi) =>
          withAlias(wasm, vT, xi * c * tiles, [1, c, tiles], (a) =>
            withAlias(wasm, dyT, xi * tiles * k, [1, tiles, k], (b) =>
              s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }),
            ),
          ),
        );
        // The products' addresses as i32s, written after the last allocation (views detach when the heap grows).
        const table = s.output([16]);
        const view = heapF32(wasm, table);
        new Int32Array(view.buffer, view.byteOffset, 16).set(products.map(at));
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
