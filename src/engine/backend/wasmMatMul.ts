/**
 * BatchMatMul on wasm as XNNPACK products. tfjs-backend-wasm 4.22 hands a product to XNNPACK only when both
 * operands are a single matrix and neither is transposed; with transposeA or transposeB, or a batch of
 * matrices, it takes a plain loop that is 4 to 10 times slower (measured here, 64x64x1024: 14.2 ms against
 * 1.5 ms with the transpose; a batch of 64 [64, 64] x [64, 1024]: 265 ms against 43). Gradients of every
 * matMul (a Dense layer's backward pass, the cosine kernels of AKD, PKT, SP...) ask for transposed products,
 * and RKD's angle loss is batched products, so this is most of what those losses cost on wasm (docs/design.md,
 * wasm training kernels). Here a transposed operand is made plain by one Transpose of the whole batch, and a
 * batch is run as one untransposed wasm product per matrix on aliases into the operands' heap memory, copied
 * into one output (or as one product, when the right operand is a single matrix). The transposes and copies
 * move data only; the sums are XNNPACK's, so results equal the cpu backend's up to float rounding (tested
 * against it in wasmMatMul.test.ts).
 */
import {
  type BatchMatMulAttrs,
  type BatchMatMulInputs,
  broadcast_util,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { composite, heapF32, KernelScope, wasmBackendOf, withAlias } from './kernelScope';
import { heapAddress, wasmLoops } from './wasmLoops';
import { longProduct, longProductFits } from './wasmLongProduct';

/**
 * Where a batch of separate matrices goes to XNNPACK, one product per matrix, rather than wasm's own loop
 * (about 1 ns per multiply-add here, whatever the shape). Each XNNPACK product costs a fixed ~5 us (two
 * aliases, an operator created) and packs its right operand (~4 ns a float, like a transpose), so it pays off
 * only for enough work per matrix, enough left rows to spread the packing over, and a right operand wider than
 * one column (XNNPACK is no faster at a matrix-vector product: CRD's [64, 1025, 128] x [64, 128, 1], 11.7 ms
 * by the loop, 13.0 by XNNPACK). Measured per batch of 64 (CPU ms, loop against XNNPACK):
 * [1, 1024] x [1024, 1] 0.08 / 1.45; 16x16x16 0.28 / 0.37; 20x20x20 0.50 / 0.40; 32x32x32 1.96 / 0.66;
 * [4, 256] x [256, 64] 3.7 / 4.5; [8, 256] x [256, 8] 0.90 / 0.86; [64, 256] x [256, 2] 1.9 / 1.0.
 */
export const MIN_BATCHED_PRODUCT = 1 << 13;
const MIN_BATCHED_ROWS = 8;
const MIN_BATCHED_COLS = 2;

let rewrites = 0;

/** How many products the stand-in has rewritten so far: tests tell by it which path a product took. */
export const rewrittenMatMuls = () => rewrites;

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * A transpose of the last two axes; a Reshape when one of them is 1 (the order in memory is the same). Where
 * both divide by 4, the lab's 4x4 block transpose (wasmLoops) moves the floats: wasm's Transpose takes
 * ~2-3 ns a float (0.14-0.25 ms for AKD's [64, 1024] features), the block transpose ~0.5. Same bytes either way.
 */
function swapLastTwo(s: KernelScope, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const [r, c] = [t.shape[rank - 2]!, t.shape[rank - 1]!];
  const swapped = [...t.shape.slice(0, -2), c, r];
  if (r === 1 || c === 1) return s.reshape(t, swapped);
  const loops = r % 4 === 0 && c % 4 === 0 ? wasmLoops(s.wasm) : null;
  if (loops != null) {
    const out = s.output(swapped);
    loops.transpose4(
      heapAddress(s.wasm, t.dataId),
      heapAddress(s.wasm, out.dataId),
      r,
      c,
      size(t.shape) / (r * c),
    );
    return out;
  }
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  return s.run('Transpose', { x: t }, { perm });
}

/** Floats moved by a transpose of a rows x cols matrix: none when it is a reshape (see swapLastTwo). */
const moved = (rows: number, cols: number) => (rows === 1 || cols === 1 ? 0 : rows * cols);

interface Product {
  m: number;
  k: number;
  n: number;
  batchA: number;
  batchB: number;
  batch: number;
  outShape: number[];
}

/**
 * Whether a batch of rows x inner x cols products, one per matrix, beats wasm's loop (MIN_BATCHED_PRODUCT)
 * when `floats` are transposed or packed for it: the loop takes ~1 ns a multiply-add, a moved float ~4.
 */
const perMatrixPays = (rows: number, inner: number, cols: number, batch: number, floats: number) =>
  rows >= MIN_BATCHED_ROWS &&
  cols >= MIN_BATCHED_COLS &&
  rows * inner * cols >= MIN_BATCHED_PRODUCT &&
  floats < (batch * rows * inner * cols) / 4;

/** How a product is run: C = op(A) op(B), or C^T = op(B)^T op(A)^T (`swap`); `fold` when its right side is one matrix. */
interface Plan {
  swap: boolean;
  fold: boolean;
}

/**
 * The cheaper of C = op(A) op(B) and C^T = op(B)^T op(A)^T, or null where neither beats wasm's loop: the one
 * that moves fewer floats in transposes and in packing the right operand (XNNPACK packs it per product, so
 * once per matrix unless the right operand is a single matrix, when the left's batch folds into its rows).
 * Swapping pays where C is a vector (its transpose is a reshape) and op(A) is the transposed one: A^T v as
 * (v^T A)^T transposes nothing.
 */
function choosePlan(p: Product, transposeA: boolean, transposeB: boolean): Plan | null {
  const { m, k, n, batchA, batchB, batch } = p;
  const a = batchA * moved(m, k);
  const b = batchB * moved(k, n);
  const direct = (transposeA ? a : 0) + (transposeB ? b : 0) + (batchB === 1 ? 1 : batch) * k * n;
  const swapped =
    (transposeA ? 0 : a) + (transposeB ? 0 : b) + (batchA === 1 ? 1 : batch) * k * m + batch * moved(m, n);
  const plans = [
    { swap: false, fold: batchB === 1, cost: direct, pays: perMatrixPays(m, k, n, batch, direct) },
    { swap: true, fold: batchA === 1, cost: swapped, pays: perMatrixPays(n, k, m, batch, swapped) },
  ].filter((plan) => plan.fold || plan.pays);
  // Sorting is stable: on a tie, the direct product.
  const best = plans.sort((x, y) => x.cost - y.cost)[0];
  return best == null ? null : { swap: best.swap, fold: best.fold };
}

/** The product's sizes, or null where wasm's own kernel should run (or throw its own error). */
function describe(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Product | null {
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== kb || m * k * n === 0) return null;
  let outer: number[];
  try {
    outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const batch = size(outer);
  // Matrix i of the output pairs matrix i (or the only one) of each side; not so where both sides broadcast.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  return { m, k, n, batchA, batchB, batch, outShape: [...outer, m, n] };
}

/**
 * Below this inner dimension XNNPACK's packing is cheap and the loop's per-panel set-up is not: [64, 10] x
 * [10, 1024] 0.10 ms by XNNPACK, 0.12-0.18 by the loop; [64, 64] x [64, 1024] about even.
 */
const MIN_LOOP_INNER = 32;

const loopPays = (rows: number, inner: number, cols: number) =>
  inner >= MIN_LOOP_INNER && longProductFits(rows, cols);

/**
 * left x right by the lab's long-inner loop (wasmLongProduct.ts), which reads both in place, where XNNPACK's
 * fully-connected operator packs the right operand afresh at ~7 ns a float (AKD's U U^T, [64, 1024] x
 * [1024, 64]: 0.55 ms by XNNPACK, 0.26 by the loop): `count` products of [rows, inner] x [inner, cols], each
 * side one matrix or `count` consecutive ones. Null where the loop does not pay (loopPays).
 */
function loopProduct(
  s: KernelScope,
  left: TensorInfo,
  right: TensorInfo,
  rows: number,
  inner: number,
  cols: number,
  count: number,
): TensorInfo | null {
  const loops = loopPays(rows, inner, cols) ? wasmLoops(s.wasm) : null;
  if (loops == null) return null;
  const out = s.output([count, rows, cols]);
  const [a, b, c] = [left, right, out].map((t) => heapAddress(s.wasm, t.dataId)) as [number, number, number];
  const leftStep = size(left.shape) === count * rows * inner ? rows * inner : 0;
  const rightStep = size(right.shape) === count * inner * cols ? inner * cols : 0;
  for (let i = 0; i < count; i++) {
    longProduct(
      loops,
      a + 4 * i * leftStep,
      b + 4 * i * rightStep,
      c + 4 * i * rows * cols,
      rows,
      inner,
      cols,
      4 * inner,
      false,
    );
  }
  return out;
}

/**
 * left x right, plain operands [...batch, rows, inner] and [...batch, inner, cols], as [batch, rows, cols]:
 * one product where right is a single matrix (left's batch folds into its rows), else one per matrix on
 * aliases, each copied into the output.
 */
function plainProduct(
  s: KernelScope,
  own: KernelFunc,
  left: TensorInfo,
  right: TensorInfo,
  batch: number,
  fold: boolean,
): TensorInfo {
  const [rows, inner] = left.shape.slice(-2) as [number, number];
  const cols = right.shape[right.shape.length - 1]!;
  const plain = { transposeA: false, transposeB: false };
  const byLoop = loopProduct(
    s,
    left,
    right,
    fold ? size(left.shape) / inner : rows,
    inner,
    cols,
    fold ? 1 : batch,
  );
  if (byLoop != null) return s.reshape(byLoop, [batch, rows, cols]);
  if (fold) {
    const a = s.reshape(left, [1, size(left.shape) / inner, inner]);
    const b = s.reshape(right, [1, inner, cols]);
    return s.reshape(s.runFunc('BatchMatMul', own, { a, b }, plain), [batch, rows, cols]);
  }
  const wasm = s.wasm;
  const out = s.output([batch, rows, cols]);
  const leftStep = size(left.shape) === batch * rows * inner ? rows * inner : 0;
  const rightStep = size(right.shape) === batch * inner * cols ? inner * cols : 0;
  for (let i = 0; i < batch; i++) {
    const one = new KernelScope(wasm);
    try {
      const part = withAlias(wasm, left, i * leftStep, [1, rows, inner], (a) =>
        withAlias(wasm, right, i * rightStep, [1, inner, cols], (b) =>
          one.runFunc('BatchMatMul', own, { a, b }, plain),
        ),
      );
      // Views taken after the product, the last allocation (a growing heap detaches earlier views).
      heapF32(wasm, out).set(heapF32(wasm, part), i * rows * cols);
    } finally {
      one.disposeAllBut(undefined);
    }
  }
  return out;
}

/**
 * The stand-in: `original` returns wasm's own BatchMatMul. Float32 products with a transposed operand or a
 * batch of matrices are rewritten as above; untransposed single products, batches of small matrices or
 * of matrix-vector products (MIN_BATCHED_PRODUCT), batches that both broadcast and other dtypes are wasm's own.
 */
export function transposingBatchMatMul(original: () => KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as BatchMatMulInputs;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    if (a == null || b == null) throw new Error('wasmMatMul: BatchMatMul needs a and b');
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original()(args);
    const p = describe(a, b, transposeA, transposeB);
    if (p == null) return original()(args);
    if (p.batch === 1 && !transposeA && !transposeB) {
      // A single plain product: the loop where it fits (it packs nothing), else wasm's own (XNNPACK).
      if (!loopPays(p.m, p.k, p.n) || wasmLoops(wasmBackendOf(args.backend)) == null) return original()(args);
      rewrites++;
      return composite(args.backend, (s) => s.reshape(loopProduct(s, a, b, p.m, p.k, p.n, 1)!, p.outShape));
    }
    const plan = choosePlan(p, transposeA, transposeB);
    if (plan == null) return original()(args);
    const { swap, fold } = plan;
    const own = original();
    rewrites++;
    return composite(args.backend, (s) => {
      // Plain operands: transposed where the flag (or, swapped, its absence) says so.
      const plainA = transposeA !== swap ? swapLastTwo(s, a) : a;
      const plainB = transposeB !== swap ? swapLastTwo(s, b) : b;
      const c = swap
        ? swapLastTwo(s, plainProduct(s, own, plainB, plainA, p.batch, fold))
        : plainProduct(s, own, plainA, plainB, p.batch, fold);
      return s.reshape(c, p.outShape);
    });
  };
}
