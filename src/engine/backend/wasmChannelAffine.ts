/**
 * The training BatchNorm's per-channel affine passes as a loop of the lab's wasm module (wasmLoops.ts has the
 * API, trainingBatchNorm.ts the op, docs/design.md §5 the why): y = a p + shift forward, and backward
 * dx = a dy + b x + shift in one pass over both inputs instead of two affine passes and an add.
 */
import {
  ADD,
  brIf,
  F32X4_ADD,
  F32X4_MUL,
  type Fn,
  forRange,
  get,
  I32,
  i32,
  ifThen,
  inc,
  loop,
  LT_S,
  set,
  SHL,
  V128_LOAD,
  V128_STORE,
} from './wasmAssembler';

/**
 * channelAffine(out, p, q, a, b, shift, rows, channels): out[r, c] = p[r, c] a[c] + shift[c], plus q[r, c] b[c]
 * when q is not 0 (added to the first product before the shift), over [rows, channels] float32 data with
 * channels a multiple of 4.
 */
export function channelAffineBody(): Fn {
  const OUT = 0,
    P = 1,
    Q = 2,
    A = 3,
    B = 4,
    SHIFT = 5,
    ROWS = 6,
    CH = 7;
  const R = 8,
    CB = 9,
    O = 10,
    ROW_BYTES = 11;
  const at = (base: number, offset: number) => [...get(base), ...get(offset), ...ADD];
  // p a (+ q b) + shift, as the XNNPACK depthwise pass it replaces rounds the forward one: product, then shift.
  const value = (withQ: boolean) => [
    ...at(P, O),
    ...V128_LOAD,
    ...at(A, CB),
    ...V128_LOAD,
    ...F32X4_MUL,
    ...(withQ ? [...at(Q, O), ...V128_LOAD, ...at(B, CB), ...V128_LOAD, ...F32X4_MUL, ...F32X4_ADD] : []),
    ...at(SHIFT, CB),
    ...V128_LOAD,
    ...F32X4_ADD,
  ];
  const rowsLoop = (withQ: boolean) =>
    forRange(R, get(ROWS), [
      [...i32(0), ...set(CB)],
      loop(
        [...at(OUT, O), ...value(withQ), ...V128_STORE],
        inc(O, i32(16)),
        inc(CB, i32(16)),
        get(CB),
        get(ROW_BYTES),
        LT_S,
        brIf(0),
      ),
    ]);
  const code = [
    ...[...get(CH), ...i32(2), ...SHL, ...set(ROW_BYTES)],
    ...[...i32(0), ...set(O)],
    ...ifThen(get(Q), [rowsLoop(true)], [rowsLoop(false)]),
  ];
  return { name: 'channelAffine', params: 8, locals: [[4, I32]], code };
}
