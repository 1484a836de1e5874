/**
 * The three transforms of Winograd's F(2x2, 3x3) convolution as loops of the lab's wasm module (wasmLoops.ts
 * has the API, winogradConv.ts the kernel that runs them around XNNPACK's matrix products, docs/design.md §5
 * the why and the formulas). Every loop works four channels at a time (SIMD), so the channel counts must be
 * multiples of 4; every address is a byte address on tfjs's heap.
 */
import {
  ADD,
  F32X4_ADD,
  F32X4_MAX,
  F32X4_MUL,
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
  V128,
  V128_LOAD,
  V128_STORE,
} from './wasmAssembler';

/** Locals m[0..15] = idx * stride (the byte offsets of the 16 Winograd matrices). */
export function multiples(first: number, stride: number): number[] {
  return Array.from({ length: 16 }, (_, idx) => [
    ...get(stride),
    ...i32(idx),
    ...MUL,
    ...set(first + idx),
  ]).flat();
}

/** The locals of `blockWalk`. */
export interface BlockWalk {
  readonly base: number;
  readonly n: number;
  readonly th: number;
  readonly tw: number;
  readonly img: number;
  readonly i: number;
  readonly j: number;
  /** Set to the block's first byte. */
  readonly p: number;
  /** The byte offset within a pixel, 0 to pix by 16. */
  readonly kk: number;
  readonly rowBytes: number;
  readonly pix: number;
}

/**
 * For every 2x2 block (img, i, j) of an [n, 2 th, 2 tw, channels] map at `base` (rowBytes a row, pix a pixel):
 * p = base + ((img th + i) 2 rowBytes + 2 j pix), then `body` for kk over the pixel's bytes, 16 at a time.
 */
export function blockWalk(l: BlockWalk, body: number[]): number[] {
  return forRange(l.img, get(l.n), [
    forRange(l.i, get(l.th), [
      forRange(l.j, get(l.tw), [
        [
          ...get(l.base),
          ...get(l.img),
          ...get(l.th),
          ...MUL,
          ...get(l.i),
          ...ADD,
          ...i32(1),
          ...SHL,
          ...get(l.rowBytes),
          ...MUL,
          ...ADD,
          ...get(l.j),
          ...i32(1),
          ...SHL,
          ...get(l.pix),
          ...MUL,
          ...ADD,
          ...set(l.p),
        ],
        [...i32(0), ...set(l.kk)],
        loopBytes(l.kk, l.pix, body),
      ]),
    ]),
  ]);
}

/**
 * winogradFilter(g, u, cin, cout, mat): U = G g G^T for every (c, k) of an HWIO 3x3 filter g [3, 3, cin, cout],
 * into 16 matrices [cin, cout] `mat` bytes apart from u on (matrix xi = 4 r + s holds entry (r, s) of each
 * 4x4 transform), with
 * G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
 */
export function winogradFilterBody(): Fn {
  const G = 0,
    U = 1,
    CIN = 2,
    COUT = 3,
    UMAT = 4;
  const TAP = 5,
    O = 6,
    M0 = 7, // multiples of a tap: 7..22
    UM0 = 23; // multiples of UMAT: 23..38
  const GV = 39, // 9 taps: 39..47
    R = 48, // 4 x 3 rows: 48..59
    HALF = 60,
    T1 = 61,
    T2 = 62;
  const halfSum = (to: number, a: number, b: number, c: number, minus: boolean) => [
    ...get(a),
    ...get(b),
    ...(minus ? F32X4_SUB : F32X4_ADD),
    ...get(c),
    ...F32X4_ADD,
    ...get(HALF),
    ...F32X4_MUL,
    ...set(to),
  ];
  const body = [
    // The taps: 9 loads a tap apart.
    ...Array.from({ length: 9 }, (_, t) => [
      ...get(G),
      ...get(O),
      ...ADD,
      ...get(M0 + t),
      ...ADD,
      ...V128_LOAD,
      ...set(GV + t),
    ]).flat(),
    // Rows over ki for each kj: R[r][kj].
    ...Array.from({ length: 3 }, (_, kj) => {
      const g0 = GV + kj,
        g1 = GV + 3 + kj,
        g2 = GV + 6 + kj;
      return [
        ...get(g0),
        ...set(R + kj),
        ...halfSum(R + 3 + kj, g0, g1, g2, false),
        ...halfSum(R + 6 + kj, g0, g1, g2, true),
        ...get(g2),
        ...set(R + 9 + kj),
      ];
    }).flat(),
    // Columns over kj for each row r, stored as u[4 r + s].
    ...Array.from({ length: 4 }, (_, r) => {
      const r0 = R + 3 * r,
        r1 = r0 + 1,
        r2 = r0 + 2;
      const store = (s: number, value: number) => [
        ...get(U),
        ...get(O),
        ...ADD,
        ...get(UM0 + 4 * r + s),
        ...ADD,
        ...get(value),
        ...V128_STORE,
      ];
      return [
        ...halfSum(T1, r0, r1, r2, false),
        ...halfSum(T2, r0, r1, r2, true),
        ...store(0, r0),
        ...store(1, T1),
        ...store(2, T2),
        ...store(3, r2),
      ];
    }).flat(),
  ];
  const code = [
    ...[...get(CIN), ...get(COUT), ...MUL, ...i32(2), ...SHL, ...set(TAP)],
    ...multiples(M0, TAP),
    ...multiples(UM0, UMAT),
    ...[...f32(0.5), ...F32X4_SPLAT, ...set(HALF)],
    ...[...i32(0), ...set(O)],
    // Over the tap's bytes, 16 at a time: every (c, k) of a tap, in order.
    ...loopBytes(O, TAP, body),
  ];
  return {
    name: 'winogradFilter',
    params: 5,
    locals: [
      [34, I32],
      [24, V128],
    ],
    code,
  };
}

/**
 * winogradInput(xp, v, n, th, tw, c, mat): V = B^T d B for every 4x4 tile d of a zero-padded input xp
 * [n, 2 th + 2, 2 tw + 2, c] (tiles 2 apart, tile (i, j) starting at padded row 2 i and column 2 j) and every
 * channel, into 16 matrices [n th tw, c] `mat` bytes apart from v on, with
 * B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
 */
export function winogradInputBody(): Fn {
  const XP = 0,
    V = 1,
    N = 2,
    TH = 3,
    TW = 4,
    C = 5,
    MAT = 6;
  const PIX = 7,
    ROWB = 8,
    IMG = 9,
    I = 10,
    J = 11,
    BASE = 12,
    O = 13,
    K = 14,
    P = 15,
    M0 = 16; // 16..31
  const D = 32, // 16 loads: 32..47
    T = 48; // 16 rows: 48..63
  const body = [
    // d[r][s] at base + k + r rowBytes + s pixBytes (only r rowBytes and s pixBytes vary).
    ...Array.from({ length: 16 }, (_, idx) => {
      const r = Math.floor(idx / 4),
        s = idx % 4;
      return [
        ...get(P),
        ...(r > 0 ? [...get(ROWB), ...i32(r), ...MUL, ...ADD] : []),
        ...(s > 0 ? [...get(PIX), ...i32(s), ...MUL, ...ADD] : []),
        ...V128_LOAD,
        ...set(D + idx),
      ];
    }).flat(),
    // t[r][s] = (B^T d)[r][s]
    ...Array.from({ length: 4 }, (_, s) => [
      ...op(T + s, D + s, D + 8 + s, F32X4_SUB),
      ...op(T + 4 + s, D + 4 + s, D + 8 + s, F32X4_ADD),
      ...op(T + 8 + s, D + 8 + s, D + 4 + s, F32X4_SUB),
      ...op(T + 12 + s, D + 4 + s, D + 12 + s, F32X4_SUB),
    ]).flat(),
    // v[r][s] = (t B)[r][s], stored to matrix 4 r + s at o.
    ...Array.from({ length: 4 }, (_, r) => {
      const t = (s: number) => T + 4 * r + s;
      const store = (s: number, a: number, b: number, o: number[]) => [
        ...get(V),
        ...get(O),
        ...ADD,
        ...get(M0 + 4 * r + s),
        ...ADD,
        ...get(a),
        ...get(b),
        ...o,
        ...V128_STORE,
      ];
      return [
        ...store(0, t(0), t(2), F32X4_SUB),
        ...store(1, t(1), t(2), F32X4_ADD),
        ...store(2, t(2), t(1), F32X4_SUB),
        ...store(3, t(1), t(3), F32X4_SUB),
      ];
    }).flat(),
    ...inc(O, i32(16)),
    ...inc(P, i32(16)),
  ];
  const code = [
    ...[...get(C), ...i32(2), ...SHL, ...set(PIX)],
    // rowBytes = (2 tw + 2) pix
    ...[...get(TW), ...i32(1), ...SHL, ...i32(2), ...ADD, ...get(PIX), ...MUL, ...set(ROWB)],
    ...multiples(M0, MAT),
    ...[...i32(0), ...set(O)],
    ...forRange(IMG, get(N), [
      forRange(I, get(TH), [
        // base = xp + ((img (2 th + 2) + 2 i) rowBytes)
        [
          ...get(XP),
          ...get(IMG),
          ...get(TH),
          ...i32(1),
          ...ADD,
          ...MUL,
          ...get(I),
          ...ADD,
          ...i32(1),
          ...SHL,
          ...get(ROWB),
          ...MUL,
          ...ADD,
          ...set(BASE),
        ],
        forRange(J, get(TW), [
          [...get(BASE), ...get(J), ...get(PIX), ...MUL, ...i32(1), ...SHL, ...ADD, ...set(P)],
          [...i32(0), ...set(K)],
          loopBytes(K, PIX, body),
        ]),
      ]),
    ]),
  ];
  return {
    name: 'winogradInput',
    params: 7,
    locals: [
      [25, I32],
      [32, V128],
    ],
    code,
  };
}

/**
 * winogradOutput(table, y, bias, n, th, tw, k, relu): Y = A^T m A for every tile and output channel, where
 * m[xi] is the product matrix [n th tw, k] whose byte address is the i32 at table + 4 xi, written as the 2x2
 * block of y [n, 2 th, 2 tw, k] at row 2 i and column 2 j, plus bias[k] when bias is not 0, then max(., 0)
 * when relu is not 0; A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
 */
export function winogradOutputBody(): Fn {
  const TABLE = 0,
    Y = 1,
    BIAS = 2,
    N = 3,
    TH = 4,
    TW = 5,
    K = 6,
    RELU = 7;
  const PIX = 8,
    ROWB = 9,
    IMG = 10,
    I = 11,
    J = 12,
    P = 13,
    O = 14,
    KK = 15,
    A0 = 16; // 16..31
  const MV = 32, // 16 loads: 32..47
    S = 48, // 2 x 4: 48..55
    Y00 = 56,
    Y01 = 57,
    Y10 = 58,
    Y11 = 59,
    B = 60,
    ZERO = 61;
  const outs = [Y00, Y01, Y10, Y11];
  const sum3 = (to: number, a: number, b: number, c: number, minus: boolean) => [
    ...get(a),
    ...get(b),
    ...(minus ? F32X4_SUB : F32X4_ADD),
    ...get(c),
    ...(minus ? F32X4_SUB : F32X4_ADD),
    ...set(to),
  ];
  const store = (y: number, extra: number[]) => [
    ...get(P),
    ...get(KK),
    ...ADD,
    ...extra,
    ...get(y),
    ...V128_STORE,
  ];
  const body = [
    ...Array.from({ length: 16 }, (_, xi) => [
      ...get(A0 + xi),
      ...get(O),
      ...ADD,
      ...V128_LOAD,
      ...set(MV + xi),
    ]).flat(),
    // s[0][q] = m0q + m1q + m2q, s[1][q] = m1q - m2q - m3q (m[r][q] = matrix 4 r + q)
    ...Array.from({ length: 4 }, (_, q) => [
      ...sum3(S + q, MV + q, MV + 4 + q, MV + 8 + q, false),
      ...sum3(S + 4 + q, MV + 4 + q, MV + 8 + q, MV + 12 + q, true),
    ]).flat(),
    ...sum3(Y00, S, S + 1, S + 2, false),
    ...sum3(Y01, S + 1, S + 2, S + 3, true),
    ...sum3(Y10, S + 4, S + 5, S + 6, false),
    ...sum3(Y11, S + 5, S + 6, S + 7, true),
    ...ifThen(get(BIAS), [
      [...get(BIAS), ...get(KK), ...ADD, ...V128_LOAD, ...set(B)],
      ...outs.map((y) => op(y, y, B, F32X4_ADD)),
    ]),
    ...ifThen(
      get(RELU),
      outs.map((y) => op(y, y, ZERO, F32X4_MAX)),
    ),
    ...store(Y00, []),
    ...store(Y01, [...get(PIX), ...ADD]),
    ...store(Y10, [...get(ROWB), ...ADD]),
    ...store(Y11, [...get(ROWB), ...ADD, ...get(PIX), ...ADD]),
    ...inc(O, i32(16)),
  ];
  const code = [
    ...Array.from({ length: 16 }, (_, xi) => [
      ...get(TABLE),
      ...i32(4 * xi),
      ...ADD,
      ...I32_LOAD,
      ...set(A0 + xi),
    ]).flat(),
    ...[...get(K), ...i32(2), ...SHL, ...set(PIX)],
    // rowBytes = 2 tw pix
    ...[...get(TW), ...i32(1), ...SHL, ...get(PIX), ...MUL, ...set(ROWB)],
    ...[...f32(0), ...F32X4_SPLAT, ...set(ZERO)],
    ...[...i32(0), ...set(O)],
    ...blockWalk(
      { base: Y, n: N, th: TH, tw: TW, img: IMG, i: I, j: J, p: P, kk: KK, rowBytes: ROWB, pix: PIX },
      body,
    ),
  ];
  return {
    name: 'winogradOutput',
    params: 8,
    locals: [
      [24, I32],
      [30, V128],
    ],
    code,
  };
}
