/**
 * MaxPoolGrad's 2x2 loops of the lab's wasm module (wasmLoops.ts has the API, wasmHeapKernels.ts the JS loop
 * they must equal, docs/design.md §5 the why): one channel at a time with select, and four at a time (SIMD).
 */
import {
  ADD,
  brIf,
  EQ,
  F32,
  F32_LOAD,
  F32_STORE,
  F32X4_SPLAT,
  type Fn,
  forRange,
  get,
  I32,
  i32,
  inc,
  loop,
  LT_S,
  MUL,
  set,
  SHL,
  simd,
  V128,
  V128_LOAD,
  V128_STORE,
} from './wasmAssembler';

/**
 * maxPool2Grad(x, dy, dx, rows, ow, c): MaxPoolGrad for 2x2 windows that tile x exactly (stride 2, no
 * padding; `rows` = batch x output rows), as tiledMaxPool2Grad in wasmHeapKernels.ts: each window writes dy
 * at its first strict maximum (row-major; NaN never wins, a window of NaN and -Infinity gets none) and 0 at
 * its other three inputs. Branch-free (select), since real activations make the branches unpredictable.
 */
export function maxPool2GradBody(): Fn {
  const X = 0,
    G = 1,
    DX = 2,
    ROWS = 3,
    OW = 4,
    C = 5;
  const R = 6,
    Q = 7,
    K = 8,
    OFF = 9,
    AT = 10,
    ROW_BYTES = 11,
    C_BYTES = 12;
  const VA = 13,
    VB = 14,
    VD = 15,
    VE = 16,
    BEST = 17,
    DY = 18;
  const F32_GT = [0x5e];
  const SELECT = [0x1b];
  const negInf = [0x43, 0x00, 0x00, 0x80, 0xff];
  const f32Zero = [0x43, 0, 0, 0, 0];
  const load = (local: number, extra: number[]) => [
    ...get(X),
    ...get(OFF),
    ...ADD,
    ...extra,
    ...F32_LOAD,
    ...set(local),
  ];
  // best, at = v, i where v > best
  const better = (v: number, i: number) => [
    ...get(v),
    ...get(BEST),
    ...get(v),
    ...get(BEST),
    ...F32_GT,
    ...SELECT,
    ...i32(i),
    ...get(AT),
    ...get(v),
    ...get(BEST),
    ...F32_GT,
    ...SELECT,
    ...set(AT),
    ...set(BEST),
  ];
  // dx[off + extra] = at == i ? dy : 0
  const store = (i: number, extra: number[]) => [
    ...get(DX),
    ...get(OFF),
    ...ADD,
    ...extra,
    ...get(DY),
    ...f32Zero,
    ...get(AT),
    ...i32(i),
    ...EQ,
    ...SELECT,
    ...F32_STORE,
  ];
  const right = [...get(C_BYTES), ...ADD];
  const down = [...get(ROW_BYTES), ...ADD];
  const code = [
    // Bytes per input row (2 ow c floats) and per pixel (c floats).
    ...i32(0),
    ...get(OW),
    ...get(C),
    ...MUL,
    ...i32(3),
    ...SHL,
    ...ADD,
    ...set(ROW_BYTES),
    ...get(C),
    ...i32(2),
    ...SHL,
    ...set(C_BYTES),
    ...forRange(R, get(ROWS), [
      forRange(Q, get(OW), [
        // off = 2 r rowBytes + 2 q cBytes
        [
          ...get(R),
          ...get(ROW_BYTES),
          ...MUL,
          ...get(Q),
          ...get(C_BYTES),
          ...MUL,
          ...ADD,
          ...i32(1),
          ...SHL,
          ...set(OFF),
        ],
        forRange(K, get(C), [
          load(VA, []),
          load(VB, right),
          load(VD, down),
          load(VE, [...down, ...right]),
          // best = va > -inf ? va : -inf; at = va > -inf ? 0 : -1
          [...get(VA), ...negInf, ...get(VA), ...negInf, ...F32_GT, ...SELECT, ...set(BEST)],
          [...i32(0), ...i32(-1), ...get(VA), ...negInf, ...F32_GT, ...SELECT, ...set(AT)],
          better(VB, 1),
          better(VD, 2),
          better(VE, 3),
          [...get(G), ...F32_LOAD, ...set(DY)],
          store(0, []),
          store(1, right),
          store(2, down),
          store(3, [...down, ...right]),
          inc(G, i32(4)),
          inc(OFF, i32(4)),
        ]),
      ]),
    ]),
  ];
  return {
    name: 'maxPool2Grad',
    params: 6,
    locals: [
      [7, I32],
      [6, F32],
    ],
    code,
  };
}

/**
 * maxPool2Grad4(x, dy, dx, rows, ow, c): maxPool2Grad for c a multiple of 4, four channels at a time (SIMD):
 * per window, masks of "beats the best so far" (a > -Infinity, then b, d, e > best: NaN never wins), and each
 * input gets dy where it is the last one to beat the best, else +0, as the scalar loop's select does.
 */
export function maxPool2Grad4Body(): Fn {
  const X = 0,
    G = 1,
    DX = 2,
    ROWS = 3,
    OW = 4,
    C = 5;
  const R = 6,
    Q = 7,
    K = 8,
    OFF = 9,
    ROW_BYTES = 10,
    C_BYTES = 11;
  const VA = 12,
    VB = 13,
    VD = 14,
    VE = 15,
    BEST = 16,
    MA = 17,
    MB = 18,
    MD = 19,
    ME = 20,
    DY = 21,
    NEG_INF = 22;
  const GT = simd(0x44);
  const AND = simd(0x4e);
  const ANDNOT = simd(0x4f);
  const OR = simd(0x50);
  const BITSELECT = simd(0x52);
  const negInf = [0x43, 0x00, 0x00, 0x80, 0xff];
  const right = [...get(C_BYTES), ...ADD];
  const down = [...get(ROW_BYTES), ...ADD];
  const load = (local: number, extra: number[]) => [
    ...get(X),
    ...get(OFF),
    ...ADD,
    ...extra,
    ...V128_LOAD,
    ...set(local),
  ];
  // mask = v > best; best = mask ? v : best
  const beats = (v: number, mask: number) => [
    ...get(v),
    ...get(BEST),
    ...GT,
    ...set(mask),
    ...get(v),
    ...get(BEST),
    ...get(mask),
    ...BITSELECT,
    ...set(BEST),
  ];
  const store = (extra: number[], mask: number[]) => [
    ...get(DX),
    ...get(OFF),
    ...ADD,
    ...extra,
    ...get(DY),
    ...mask,
    ...AND,
    ...V128_STORE,
  ];
  const code = [
    ...[...get(OW), ...get(C), ...MUL, ...i32(3), ...SHL, ...set(ROW_BYTES)],
    ...[...get(C), ...i32(2), ...SHL, ...set(C_BYTES)],
    ...[...negInf, ...F32X4_SPLAT, ...set(NEG_INF)],
    ...forRange(R, get(ROWS), [
      forRange(Q, get(OW), [
        [
          ...get(R),
          ...get(ROW_BYTES),
          ...MUL,
          ...get(Q),
          ...get(C_BYTES),
          ...MUL,
          ...ADD,
          ...i32(1),
          ...SHL,
          ...set(OFF),
        ],
        [...i32(0), ...set(K)],
        loop(
          load(VA, []),
          load(VB, right),
          load(VD, down),
          load(VE, [...down, ...right]),
          [...get(NEG_INF), ...set(BEST)],
          beats(VA, MA),
          beats(VB, MB),
          beats(VD, MD),
          beats(VE, ME),
          [...get(G), ...V128_LOAD, ...set(DY)],
          store([...down, ...right], get(ME)),
          store(down, [...get(MD), ...get(ME), ...ANDNOT]),
          store(right, [...get(MB), ...get(MD), ...get(ME), ...OR, ...ANDNOT]),
          store([], [...get(MA), ...get(MB), ...get(MD), ...get(ME), ...OR, ...OR, ...ANDNOT]),
          inc(G, i32(16)),
          inc(OFF, i32(16)),
          inc(K, i32(4)),
          get(K),
          get(C),
          LT_S,
          brIf(0),
        ),
      ]),
    ]),
  ];
  return {
    name: 'maxPool2Grad4',
    params: 6,
    locals: [
      [6, I32],
      [11, V128],
    ],
    code,
  };
}
