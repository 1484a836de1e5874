/**
 * BatchMatMul with a transposed operand on wasm, as an explicit Transpose and then wasm's own untransposed
 * product. tfjs-backend-wasm 4.22 hands only the untransposed product to XNNPACK; with transposeA or
 * transposeB it takes a plain loop that is 4 to 10 times slower (measured here, 64x64x1024: 14.2 ms against
 * 1.5 ms with the transpose). Gradients of every matMul (a Dense layer's backward pass, the cosine kernels of
 * AKD, PKT, SP...) ask for transposed products, so this is most of what those losses cost on wasm
 * (docs/design.md, wasm training kernels). The transpose moves data only; the sums are XNNPACK's, so results
 * equal the cpu backend's up to float rounding (tested against it in wasmMatMul.test.ts).
 */
import type { BatchMatMulAttrs, BatchMatMulInputs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { composite } from './kernelScope';

/** The axis order that swaps the last two axes of a rank-`rank` tensor. */
const swapLastTwo = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

/** Product of the leading (batch) dimensions. */
const batchOf = (t: TensorInfo) => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);

/**
 * The stand-in: `original` returns wasm's own BatchMatMul. Float32 products of a single matrix pair with a
 * transposed operand are rewritten; every other case (batches of matrices, other dtypes) is wasm's own.
 */
export function transposingBatchMatMul(original: () => KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as BatchMatMulInputs;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    if (a == null || b == null) throw new Error('wasmMatMul: BatchMatMul needs a and b');
    const single = batchOf(a) === 1 && batchOf(b) === 1;
    if (!(transposeA || transposeB) || !single || a.dtype !== 'float32' || b.dtype !== 'float32')
      return original()(args);
    return composite(args.backend, (s) => {
      const plain = (t: TensorInfo, transposed: boolean) =>
        transposed ? s.run('Transpose', { x: t }, { perm: swapLastTwo(t.shape.length) }) : t;
      return s.runFunc(
        'BatchMatMul',
        original(),
        { a: plain(a, transposeA), b: plain(b, transposeB) },
        { transposeA: false, transposeB: false },
      );
    });
  };
}
