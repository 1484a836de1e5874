/**
 * SGD with momentum's update in one pass (docs/design.md §5, wasm training kernels): tfjs's MomentumOptimizer
 * updates a variable by four kernels (m * acc, + g, c * that, + value), each a pass and a tfjs call, for every
 * variable at every step. The lab's loop reads the value, the accumulation and the gradient once and writes both
 * results; the loop team (wasmTeam.ts) splits it. The same multiplies and adds in the same order, so the same
 * bits.
 */
import {
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  type Fn,
  get,
  I32,
  overBytes,
  set,
  V128,
  V128_LOAD,
  V128_STORE,
} from './wasmAssembler';

/** f32.reinterpret_i32: the loop's scalars arrive as i32 parameters holding a float's bits. */
const F32_REINTERPRET_I32 = [0xbe];

/** A float's bits as the i32 argument the loop takes for it. */
export const floatBits = (value: number) => new Int32Array(new Float32Array([value]).buffer)[0]!;

/**
 * momentumUpdate(value, acc, grad, newAcc, newValue, bytes, mBits, cBits): newAcc = m acc + grad and
 * newValue = c newAcc + value over `bytes` bytes (a multiple of 16), m and c given by their bits (c is minus the
 * learning rate, as tfjs keeps it).
 */
export function momentumUpdateBody(): Fn {
  const VALUE = 0,
    ACC = 1,
    GRAD = 2,
    NEW_ACC = 3,
    NEW_VALUE = 4,
    BYTES = 5,
    M_BITS = 6,
    C_BITS = 7;
  const O = 8;
  const M = 9,
    C = 10,
    A = 11;
  const splat = (bits: number, to: number) => [
    ...get(bits),
    ...F32_REINTERPRET_I32,
    ...F32X4_SPLAT,
    ...set(to),
  ];
  const code = [
    ...splat(M_BITS, M),
    ...splat(C_BITS, C),
    ...overBytes(O, BYTES, (at) => [
      // a = m acc + grad
      ...[
        ...get(M),
        ...at(ACC),
        ...V128_LOAD,
        ...F32X4_MUL,
        ...at(GRAD),
        ...V128_LOAD,
        ...F32X4_ADD,
        ...set(A),
      ],
      ...[...at(NEW_ACC), ...get(A), ...V128_STORE],
      // value' = c a + value
      ...[
        ...at(NEW_VALUE),
        ...get(C),
        ...get(A),
        ...F32X4_MUL,
        ...at(VALUE),
        ...V128_LOAD,
        ...F32X4_ADD,
        ...V128_STORE,
      ],
    ]),
  ];
  return {
    name: 'momentumUpdate',
    params: 8,
    locals: [
      [1, I32],
      [3, V128],
    ],
    code,
  };
}
