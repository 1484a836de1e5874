/**
 * ReLU's gradient in one pass (docs/design.md §5, wasm training kernels): tfjs computes dx = dy * step(x) as two
 * kernels (Step, then Multiply), five passes over activation-sized data; the lab's loop reads dy and x once and
 * writes dx, and the loop team (wasmTeam.ts) splits it. The same multiply, so the same bits, signed zeros
 * included; a NaN in x gives NaN as the cpu backend's step does (wasm's own Step gives 0 there).
 */
import {
  f32,
  F32X4_MUL,
  F32X4_SPLAT,
  type Fn,
  get,
  I32,
  overBytes,
  set,
  simd,
  V128,
  V128_LOAD,
  V128_STORE,
} from './wasmAssembler';

const F32X4_NE = simd(0x42);
const F32X4_GT = simd(0x44);
const V128_BITSELECT = simd(0x52);

/** reluGrad(dy, x, dx, bytes): dx = dy * (x > 0 ? 1 : x is NaN ? NaN : 0) over `bytes` bytes, a multiple of 16. */
export function reluGradBody(): Fn {
  const DY = 0,
    X = 1,
    DX = 2,
    BYTES = 3;
  const O = 4;
  const ONES = 5,
    ZEROS = 6,
    XV = 7,
    STEP = 8;
  const code = [
    ...[...f32(1), ...F32X4_SPLAT, ...set(ONES)],
    ...[...f32(0), ...F32X4_SPLAT, ...set(ZEROS)],
    ...overBytes(O, BYTES, (at) => [
      ...[...at(X), ...V128_LOAD, ...set(XV)],
      // step = x > 0 ? 1 : 0, then x itself where x is NaN.
      ...[
        ...get(ONES),
        ...get(ZEROS),
        ...get(XV),
        ...get(ZEROS),
        ...F32X4_GT,
        ...V128_BITSELECT,
        ...set(STEP),
      ],
      ...[...get(XV), ...get(STEP), ...get(XV), ...get(XV), ...F32X4_NE, ...V128_BITSELECT, ...set(STEP)],
      ...[...at(DX), ...at(DY), ...V128_LOAD, ...get(STEP), ...F32X4_MUL, ...V128_STORE],
    ]),
  ];
  return {
    name: 'reluGrad',
    params: 4,
    locals: [
      [1, I32],
      [4, V128],
    ],
    code,
  };
}
