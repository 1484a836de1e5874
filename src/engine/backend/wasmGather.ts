/**
 * GatherV2 on wasm as one memory copy per gathered row. tfjs-backend-wasm 4.22's Gather walks the output
 * element by element through generic strides, ~25 ns per float here: CRD's two memory-bank lookups per step,
 * [1000, 128] gathered by [64, 1025] indices, took ~460 of a ~720 CPU ms step (cnn-small). Along axis 0
 * (batchDims 0) a gather is whole rows, each one contiguous run in the input and in the output, so it is
 * copied by the lab's wasm loop (gatherRows, wasmCopyLoops.ts: one memory.copy per index, ~1 ns per float;
 * CRD's lookup 200 -> 5.5 CPU ms) or, where that module cannot be made, by copyWithin on the heap (~7 ms).
 * Other axes and batchDims are the same copies per outer block: runs of the elements behind the gathered
 * axis. Bytes are copied unchanged, so float32 and int32 results are exactly cpu's (and wasm's, except where
 * wasm's own is wrong: batchDims 1, and the shape of an empty result; tested against cpu). Other dtypes
 * (bool, complex64, string) go to wasm's own kernel.
 */
import {
  backend_util,
  type GatherV2Attrs,
  type GatherV2Inputs,
  type KernelFunc,
  util,
} from '@tensorflow/tfjs-core';
import { wasmBackendOf } from './kernelScope';
import { heapAddress, wasmLoops } from './wasmLoops';

let rowGathers = 0;

/** How many gathers the stand-in has run so far (not wasm's own): tests tell by it which path a gather took. */
export const rowGathered = () => rowGathers;

/** When set, the copyWithin path runs even where the wasm loops exist (tests cover both). */
let forceJs = false;
export const forceJsRowGather = (on: boolean) => {
  forceJs = on;
};

/** GatherV2 for wasm as row copies; dtypes other than float32 and int32 by `original()`. */
export function rowGatherV2(original: () => KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as GatherV2Inputs;
    // Kernel attrs arrive as the untyped NamedAttrMap; tfjs-core's gather op fills exactly these.
    const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
    if (x == null || indices == null) throw new Error('wasmGather: GatherV2 needs x and indices');
    const count = util.sizeFromShape(indices.shape);
    const fast =
      (x.dtype === 'float32' || x.dtype === 'int32') && indices.dtype === 'int32' && x.shape.length >= 1;
    if (!fast) return original()(args);

    const backend = wasmBackendOf(args.backend);
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0]!;
    const axisDim = x.shape[parsedAxis]!;
    const table = backend.typedArrayFromHeap(indices) as Int32Array;
    // The same check and message as wasm's and cpu's kernels: an index outside [0, axisDim) throws.
    for (let j = 0; j < count; j++) {
      const index = table[j]!;
      if (!(index >= 0 && index <= axisDim - 1))
        util.assert(false, () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`);
    }
    // As [batch, outer, dim, slice] gathered by [batch, perBatch] indices: for each (batch, outer), perBatch
    // runs of `slice` elements (whole rows for axis 0, batchDims 0: one run of rows).
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims ?? 0);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const perBatch = count / batchSize;
    const out = backend.makeOutput(info.outputShape, x.dtype);
    rowGathers += 1;
    // Nothing to copy; wasm's own kernel would return the flattened [batch, outer, count, slice] shape here.
    if (util.sizeFromShape(info.outputShape) === 0) return out;
    const loops = forceJs ? null : wasmLoops(backend);
    const dst = heapAddress(backend, out.dataId);
    const src = heapAddress(backend, x.dataId);
    const idx = heapAddress(backend, indices.dataId);
    if (loops != null) {
      for (let b = 0; b < batchSize; b++)
        for (let o = 0; o < outerSize; o++) {
          const block = b * outerSize + o;
          loops.gatherRows(
            dst + 4 * block * perBatch * sliceSize,
            src + 4 * block * dimSize * sliceSize,
            idx + 4 * b * perBatch,
            perBatch,
            4 * sliceSize,
          );
        }
    } else {
      // Views after the output's allocation, which can grow (and detach) the heap. float32 and int32 are
      // both 4 bytes, so one int32 view of the whole heap (the buffer under any tensor's view) moves either.
      const heap = new Int32Array((backend.typedArrayFromHeap(indices) as Int32Array).buffer);
      for (let b = 0; b < batchSize; b++)
        for (let o = 0; o < outerSize; o++) {
          const block = b * outerSize + o;
          const to = (dst >> 2) + block * perBatch * sliceSize;
          const from = (src >> 2) + block * dimSize * sliceSize;
          for (let j = 0; j < perBatch; j++) {
            const row = from + heap[(idx >> 2) + b * perBatch + j]! * sliceSize;
            heap.copyWithin(to + j * sliceSize, row, row + sliceSize);
          }
        }
    }
    return out;
  };
}
