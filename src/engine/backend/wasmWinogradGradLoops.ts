/**
 * The loops of the filter gradient by Winograd's F(2x2, 3x3) (winogradFilterGrad.ts runs them, docs/design.md
 * §5 derives them): dy's 2x2 tiles transformed as A g A^T, a 4x4-block transpose (the products need their
 * summed-over dimension, the tiles, contiguous), and the final G^T S G into the filter's layout. Four channels
 * (or four floats) at a time with SIMD; byte addresses on tfjs's heap.
 */
import {
  ADD,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_NEG,
  F32X4_SPLAT,
  F32X4_SUB,
  f32,
  type Fn,
  forRange,
  get,
  I32,
  I32_LOAD,
  i32,
  ifThen,
  inc,
  loopBytes,
  MUL,
  op,
  set,
  SHL,
  simd,
  V128,
  V128_LOAD,
  V128_STORE,
} from './wasmAssembler';
import { blockWalk, multiples } from './wasmWinogradLoops';

const SHUFFLE = (...lanes: number[]) => simd(0x0d, ...lanes);
const HALF = f32(0.5);

/** local = a op b, for v128 locals. */

/**
 * winogradGradTiles(dy, w, n, th, tw, k, mat): W = A g A^T for every 2x2 tile g of dy [n, 2 th, 2 tw, k] and
 * channel, into 16 matrices [n th tw, k] `mat` bytes apart from w on (matrix 4 r + s holds entry (r, s));
 * A = [[1, 0], [1, 1], [1, -1], [0, -1]].
 */
export function winogradGradTilesBody(): Fn {
  const DY = 0,
    W = 1,
    N = 2,
    TH = 3,
    TW = 4,
    K = 5,
    MAT = 6;
  const PIX = 7,
    ROWB = 8,
    IMG = 9,
    I = 10,
    J = 11,
    P = 12,
    O = 13,
    KK = 14,
    M0 = 15; // 15..30
  const G = 31, // a, b, c, d: 31..34
    R = 35; // 4 rows x 2: 35..42
  const load = (to: number, extra: number[]) => [
    ...get(P),
    ...get(KK),
    ...ADD,
    ...extra,
    ...V128_LOAD,
    ...set(to),
  ];
  const store = (xi: number, value: number[]) => [
    ...get(W),
    ...get(O),
    ...ADD,
    ...get(M0 + xi),
    ...ADD,
    ...value,
    ...V128_STORE,
  ];
  const body = [
    ...load(G, []),
    ...load(G + 1, [...get(PIX), ...ADD]),
    ...load(G + 2, [...get(ROWB), ...ADD]),
    ...load(G + 3, [...get(ROWB), ...ADD, ...get(PIX), ...ADD]),
    // Rows: (a, b), (a + c, b + d), (a - c, b - d), (-c, -d)
    ...get(G),
    ...set(R),
    ...get(G + 1),
    ...set(R + 1),
    ...op(R + 2, G, G + 2, F32X4_ADD),
    ...op(R + 3, G + 1, G + 3, F32X4_ADD),
    ...op(R + 4, G, G + 2, F32X4_SUB),
    ...op(R + 5, G + 1, G + 3, F32X4_SUB),
    ...[...get(G + 2), ...F32X4_NEG, ...set(R + 6)],
    ...[...get(G + 3), ...F32X4_NEG, ...set(R + 7)],
    // Columns of row x: (p, p + q, p - q, -q) for (p, q) = R[x]
    ...Array.from({ length: 4 }, (_, x) => {
      const p = R + 2 * x,
        q = p + 1;
      return [
        ...store(4 * x, get(p)),
        ...store(4 * x + 1, [...get(p), ...get(q), ...F32X4_ADD]),
        ...store(4 * x + 2, [...get(p), ...get(q), ...F32X4_SUB]),
        ...store(4 * x + 3, [...get(q), ...F32X4_NEG]),
      ];
    }).flat(),
    ...inc(O, i32(16)),
  ];
  const code = [
    ...[...get(K), ...i32(2), ...SHL, ...set(PIX)],
    // rowBytes = 2 tw pix
    ...[...get(TW), ...i32(1), ...SHL, ...get(PIX), ...MUL, ...set(ROWB)],
    ...multiples(M0, MAT),
    ...[...i32(0), ...set(O)],
    ...blockWalk(
      { base: DY, n: N, th: TH, tw: TW, img: IMG, i: I, j: J, p: P, kk: KK, rowBytes: ROWB, pix: PIX },
      body,
    ),
  ];
  return {
    name: 'winogradGradTiles',
    params: 7,
    locals: [
      [24, I32],
      [12, V128],
    ],
    code,
  };
}

/**
 * transpose4(src, dst, rows, cols, count): each of `count` consecutive [rows, cols] float matrices at src
 * written transposed ([cols, rows]) at dst, in 4x4 blocks; rows and cols must be multiples of 4.
 */
export function transpose4Body(): Fn {
  const SRC = 0,
    DST = 1,
    ROWS = 2,
    COLS = 3,
    COUNT = 4;
  const M = 5,
    R = 6,
    C = 7,
    S = 8,
    D = 9,
    RB = 10, // rows x 4 bytes
    CB = 11; // cols x 4 bytes
  const V = 12, // 4 loaded rows: 12..15
    T = 16; // 4 half-transposed: 16..19
  // Lane bytes of i8x16.shuffle for float lanes: a's lanes 0..3, b's 4..7.
  const lanes = (...fl: number[]) => fl.flatMap((f) => [4 * f, 4 * f + 1, 4 * f + 2, 4 * f + 3]);
  const LO = lanes(0, 4, 1, 5); // (a0, b0, a1, b1)
  const HI = lanes(2, 6, 3, 7); // (a2, b2, a3, b3)
  const LO64 = lanes(0, 1, 4, 5); // (a0, a1, b0, b1)
  const HI64 = lanes(2, 3, 6, 7); // (a2, a3, b2, b3)
  const shuffle = (to: number, a: number, b: number, l: number[]) => [
    ...get(a),
    ...get(b),
    ...SHUFFLE(...l),
    ...set(to),
  ];
  const body = [
    // s = src block (r, c), d = dst block (c, r)
    ...Array.from({ length: 4 }, (_, q) => [
      ...get(S),
      ...(q > 0 ? [...get(CB), ...i32(q), ...MUL, ...ADD] : []),
      ...V128_LOAD,
      ...set(V + q),
    ]).flat(),
    ...shuffle(T, V, V + 1, LO),
    ...shuffle(T + 1, V, V + 1, HI),
    ...shuffle(T + 2, V + 2, V + 3, LO),
    ...shuffle(T + 3, V + 2, V + 3, HI),
    ...[...get(D), ...get(T), ...get(T + 2), ...SHUFFLE(...LO64), ...V128_STORE],
    ...[...get(D), ...get(RB), ...ADD, ...get(T), ...get(T + 2), ...SHUFFLE(...HI64), ...V128_STORE],
    ...[
      ...get(D),
      ...get(RB),
      ...i32(2),
      ...MUL,
      ...ADD,
      ...get(T + 1),
      ...get(T + 3),
      ...SHUFFLE(...LO64),
      ...V128_STORE,
    ],
    ...[
      ...get(D),
      ...get(RB),
      ...i32(3),
      ...MUL,
      ...ADD,
      ...get(T + 1),
      ...get(T + 3),
      ...SHUFFLE(...HI64),
      ...V128_STORE,
    ],
  ];
  const code = [
    ...[...get(ROWS), ...i32(2), ...SHL, ...set(RB)],
    ...[...get(COLS), ...i32(2), ...SHL, ...set(CB)],
    ...forRange(M, get(COUNT), [
      forRange(
        R,
        [...get(ROWS), ...i32(2), 0x76 /* i32.shr_u */],
        [
          forRange(
            C,
            [...get(COLS), ...i32(2), 0x76],
            [
              // s = src + (m rows cols + 4 r cols + 4 c) 4, d = dst + (m rows cols + 4 c rows + 4 r) 4
              [
                ...get(SRC),
                ...get(M),
                ...get(ROWS),
                ...MUL,
                ...get(CB),
                ...MUL,
                ...ADD,
                ...get(R),
                ...i32(2),
                ...SHL,
                ...get(CB),
                ...MUL,
                ...ADD,
                ...get(C),
                ...i32(4),
                ...SHL,
                ...ADD,
                ...set(S),
              ],
              [
                ...get(DST),
                ...get(M),
                ...get(ROWS),
                ...MUL,
                ...get(CB),
                ...MUL,
                ...ADD,
                ...get(C),
                ...i32(2),
                ...SHL,
                ...get(RB),
                ...MUL,
                ...ADD,
                ...get(R),
                ...i32(4),
                ...SHL,
                ...ADD,
                ...set(D),
              ],
              body,
            ],
          ),
        ],
      ),
    ]),
  ];
  return {
    name: 'transpose4',
    params: 5,
    locals: [
      [7, I32],
      [8, V128],
    ],
    code,
  };
}

/**
 * winogradGradFilter(table, dw, c, k, add): dW = G^T S G for every (c, k), where S[xi] is the [c, k] product
 * whose byte address is the i32 at table + 4 xi, into dw [3, 3, c, k], added to what is there when add is not
 * 0; G^T = [[1, 1/2, 1/2, 0], [0, 1/2, -1/2, 0], [0, 1/2, 1/2, 1]].
 */
export function winogradGradFilterBody(): Fn {
  const TABLE = 0,
    DW = 1,
    C = 2,
    K = 3,
    ADDTO = 4;
  const TAP = 5,
    O = 6,
    A0 = 7; // 7..22
  const S = 23, // 16 loads: 23..38
    P = 39, // 3 rows x 4: 39..50
    H = 51,
    X = 52,
    Y = 53;
  // to = s0 + h (s1 + s2), s1 - s2 scaled, h (s1 + s2) + s3
  const g0 = (to: number, s0: number, s1: number, s2: number) => [
    ...get(s1),
    ...get(s2),
    ...F32X4_ADD,
    ...get(H),
    ...F32X4_MUL,
    ...get(s0),
    ...F32X4_ADD,
    ...set(to),
  ];
  const g1 = (to: number, s1: number, s2: number) => [
    ...get(s1),
    ...get(s2),
    ...F32X4_SUB,
    ...get(H),
    ...F32X4_MUL,
    ...set(to),
  ];
  const g2 = (to: number, s1: number, s2: number, s3: number) => g0(to, s3, s1, s2);
  const store = (tap: number, value: number) => [
    ...get(DW),
    ...get(O),
    ...ADD,
    ...get(TAP),
    ...i32(tap),
    ...MUL,
    ...ADD,
    ...set(X),
    ...ifThen(get(ADDTO), [[...get(X), ...V128_LOAD, ...get(value), ...F32X4_ADD, ...set(value)]]),
    ...get(X),
    ...get(value),
    ...V128_STORE,
  ];
  const body = [
    ...Array.from({ length: 16 }, (_, xi) => [
      ...get(A0 + xi),
      ...get(O),
      ...ADD,
      ...V128_LOAD,
      ...set(S + xi),
    ]).flat(),
    // Rows: p[ki][q] over the matrices' row index r = xi / 4.
    ...Array.from({ length: 4 }, (_, q) => [
      ...g0(P + q, S + q, S + 4 + q, S + 8 + q),
      ...g1(P + 4 + q, S + 4 + q, S + 8 + q),
      ...g2(P + 8 + q, S + 4 + q, S + 8 + q, S + 12 + q),
    ]).flat(),
    // Columns, stored as tap 3 ki + kj.
    ...Array.from({ length: 3 }, (_, ki) => {
      const p = P + 4 * ki;
      return [
        ...g0(Y, p, p + 1, p + 2),
        ...store(3 * ki, Y),
        ...g1(Y, p + 1, p + 2),
        ...store(3 * ki + 1, Y),
        ...g2(Y, p + 1, p + 2, p + 3),
        ...store(3 * ki + 2, Y),
      ];
    }).flat(),
  ];
  const code = [
    ...Array.from({ length: 16 }, (_, xi) => [
      ...get(TABLE),
      ...i32(4 * xi),
      ...ADD,
      ...I32_LOAD,
      ...set(A0 + xi),
    ]).flat(),
    ...[...get(C), ...get(K), ...MUL, ...i32(2), ...SHL, ...set(TAP)],
    ...[...HALF, ...F32X4_SPLAT, ...set(H)],
    ...[...i32(0), ...set(O)],
    ...loopBytes(O, TAP, body),
  ];
  return {
    name: 'winogradGradFilter',
    params: 5,
    locals: [
      [18, I32],
      [29, V128],
      [1, I32],
      [1, V128],
    ],
    code,
  };
}
