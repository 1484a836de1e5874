/**
 * Data-movement loops of the wasm training kernels as a small WebAssembly module of our own, run on
 * tfjs-backend-wasm's own memory (imported, so no copies), where plain JS loops cost ~2.5 ns per element
 * (docs/design.md §5, wasm training kernels). The module is assembled here from its bytes (a few hundred),
 * so there is no build step or file to serve; it uses bulk memory (memory.copy, memory.fill) and SIMD,
 * which the engines that run tfjs-backend-wasm's SIMD build (XNNPACK's fast path) have. Where it cannot be
 * made (no exported memory to import, an engine without SIMD or bulk memory), `wasmLoops` returns null and
 * the callers keep their JS loops.
 *
 * im2colRows(dst, src, images, oh, ow, h, w, sh, step, rowOff, colOff, lo, hi, pix): for one row (ki, kj, c)
 * of a transposed im2col matrix, writes images x oh x ow floats at dst: for image m, output row r and column
 * q, src[((m h + r sh + rowOff) w + colOff) pix + q step] where that row lies in [0, h) and lo <= q < hi,
 * else 0. Byte addresses; src points at channel c of the first image, pix is the floats per pixel (the
 * channels, for NHWC x) and step = stride x pix.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

/** One exported function: i32 params, no result, its locals as [count, type] runs, its body. */
interface Fn {
  readonly name: string;
  readonly params: number;
  readonly locals: [number, number][];
  readonly code: number[];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const str = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

// Instructions, as byte arrays.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32 = (v: number) => [0x41, ...sleb(v)];
const ADD = [0x6a];
const SUB = [0x6b];
const MUL = [0x6c];
const SHL = [0x74];
const LT_U = [0x49];
const LT_S = [0x48];
const EQ = [0x46];
const F32_LOAD = [0x2a, 2, 0];
const F32_STORE = [0x38, 2, 0];
const MEMORY_COPY = [0xfc, 10, 0, 0];
const MEMORY_FILL = [0xfc, 11, 0];
const END = [0x0b];
const block = (...body: number[][]) => [0x02, 0x40, ...body.flat(), ...END];
const loop = (...body: number[][]) => [0x03, 0x40, ...body.flat(), ...END];
const ifThen = (cond: number[], then: number[][], otherwise?: number[][]) => [
  ...cond,
  0x04,
  0x40,
  ...then.flat(),
  ...(otherwise ? [0x05, ...otherwise.flat()] : []),
  ...END,
];
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
/** local = local + v */
const inc = (local: number, v: number[]) => [...get(local), ...v, ...ADD, ...set(local)];
/** A do-while over `counter` from 0 to `limit` (exclusive), skipped when limit <= 0. */
const forRange = (counter: number, limit: number[], body: number[][]) =>
  block(
    i32(0),
    set(counter),
    ...[limit, i32(1), LT_S, brIf(0)],
    loop(...body, inc(counter, i32(1)), get(counter), limit, LT_S, brIf(0)),
  );
/** memory.fill(dst, 0, bytes) */
const zero = (dst: number[], bytes: number[]) => [...dst, ...i32(0), ...bytes, ...MEMORY_FILL];

function im2colRowsBody(): Fn {
  // Params, then locals, by index.
  const DST = 0,
    SRC = 1,
    IMAGES = 2,
    OH = 3,
    OW = 4,
    H = 5,
    W = 6,
    SH = 7,
    STEP = 8,
    ROW_OFF = 9,
    COL_OFF = 10,
    LO = 11,
    HI = 12,
    PIX = 13;
  const M = 14,
    R = 15,
    IH = 16,
    ROW = 17,
    Q = 18;
  const x4 = (v: number[]) => [...v, ...i32(2), ...SHL];
  const rowBytes = x4(get(OW));
  const body = forRange(M, get(IMAGES), [
    forRange(R, get(OH), [
      // ih = r * sh + rowOff
      [...get(R), ...get(SH), ...MUL, ...get(ROW_OFF), ...ADD, ...set(IH)],
      ifThen(
        [...get(IH), ...get(H), ...LT_U],
        [
          // row = src + ((m * h + ih) * w + colOff) * pix * 4
          [
            ...get(SRC),
            ...x4([
              ...get(M),
              ...get(H),
              ...MUL,
              ...get(IH),
              ...ADD,
              ...get(W),
              ...MUL,
              ...get(COL_OFF),
              ...ADD,
              ...get(PIX),
              ...MUL,
            ]),
            ...ADD,
            ...set(ROW),
          ],
          zero(get(DST), x4(get(LO))),
          ifThen(
            [...get(STEP), ...i32(1), ...EQ],
            [
              [
                ...get(DST),
                ...x4(get(LO)),
                ...ADD,
                ...get(ROW),
                ...x4(get(LO)),
                ...ADD,
                ...x4([...get(HI), ...get(LO), ...SUB]),
                ...MEMORY_COPY,
              ],
            ],
            [
              [...get(LO), ...set(Q)],
              block(
                get(Q),
                get(HI),
                [0x4e], // i32.ge_s
                brIf(0),
                loop(
                  [...get(DST), ...x4(get(Q)), ...ADD],
                  [...get(ROW), ...x4([...get(Q), ...get(STEP), ...MUL]), ...ADD, ...F32_LOAD],
                  F32_STORE,
                  inc(Q, i32(1)),
                  get(Q),
                  get(HI),
                  LT_S,
                  brIf(0),
                ),
              ),
            ],
          ),
          zero([...get(DST), ...x4(get(HI)), ...ADD], x4([...get(OW), ...get(HI), ...SUB])),
        ],
        [zero(get(DST), rowBytes)],
      ),
      inc(DST, rowBytes),
    ]),
  ]);
  return { name: 'im2colRows', params: 14, locals: [[5, I32]], code: body };
}

/**
 * copyRuns(dst, src, count, bytes, dstStride, srcStride): `count` runs of `bytes` bytes, the j-th from
 * src + j srcStride to dst + j dstStride.
 */
function copyRunsBody(): Fn {
  const DST = 0,
    SRC = 1,
    COUNT = 2,
    BYTES = 3,
    DST_STRIDE = 4,
    SRC_STRIDE = 5,
    J = 6;
  const code = forRange(J, get(COUNT), [
    [...get(DST), ...get(SRC), ...get(BYTES), ...MEMORY_COPY],
    inc(DST, get(DST_STRIDE)),
    inc(SRC, get(SRC_STRIDE)),
  ]);
  return { name: 'copyRuns', params: 6, locals: [[1, I32]], code };
}

/**
 * maxPool2Grad(x, dy, dx, rows, ow, c): MaxPoolGrad for 2x2 windows that tile x exactly (stride 2, no
 * padding; `rows` = batch x output rows), as tiledMaxPool2Grad in wasmHeapKernels.ts: each window writes dy
 * at its first strict maximum (row-major; NaN never wins, a window of NaN and -Infinity gets none) and 0 at
 * its other three inputs. Branch-free (select), since real activations make the branches unpredictable.
 */
function maxPool2GradBody(): Fn {
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
 * channelSums(a, b, shift, rows, channels, first, second, blockRows): per-channel sums over the rows of
 * [rows, channels] float32 data, in float64, added to first[c] and second[c] (float64 arrays): of a, and of
 * a * (b - shift[c]) when b is not 0, else of a * a. Blocks of `blockRows` rows, each channel's block summed
 * into a local that is then added: the order of trainingBatchNorm's JS loop, so the sums are the same.
 */
function channelSumsBody(): Fn {
  const A = 0,
    B = 1,
    SHIFT = 2,
    ROWS = 3,
    CH = 4,
    FIRST = 5,
    SECOND = 6,
    BLOCK = 7;
  const R0 = 8,
    REND = 9,
    C = 10,
    P = 11,
    PEND = 12,
    PB = 13,
    STEP = 14;
  const S = 15,
    SQ = 16,
    V = 17,
    M = 18;
  // v128 locals: sums and second sums of channels c, c+1 (..A) and c+2, c+3 (..B), the shifts, a value pair.
  const SA = 19,
    SB = 20,
    QA = 21,
    QB = 22,
    MA = 23,
    MB = 24,
    VA = 25,
    VB = 26;
  const F64_LOAD = [0x2b, 3, 0];
  const F64_STORE = [0x39, 3, 0];
  const F64_ADD = [0xa0];
  const F64_SUB = [0xa1];
  const F64_MUL = [0xa2];
  const PROMOTE = [0xbb];
  const f64Zero = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
  const SELECT = [0x1b];
  const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
  const V128_LOAD = (offset: number) => simd(0, 3, ...uleb(offset));
  const V128_STORE = (offset: number) => simd(11, 3, ...uleb(offset));
  const LOAD2_F32 = (offset: number) => simd(93, 3, ...uleb(offset)); // v128.load64_zero
  const PROMOTE2 = simd(95); // f64x2.promote_low_f32x4
  const ADD2 = simd(240);
  const SUB2 = simd(241);
  const MUL2 = simd(242);
  const zero128 = simd(12, ...new Array<number>(16).fill(0));
  const loadA = [...get(P), ...F32_LOAD, ...PROMOTE, ...set(V)];
  const addTo = (acc: number, v: number[]) => [...get(acc), ...v, ...F64_ADD, ...set(acc)];
  const addTo2 = (acc: number, v: number[]) => [...get(acc), ...v, ...ADD2, ...set(acc)];
  // &array[c] for a float64 array
  const at8 = (base: number) => [...get(base), ...get(C), ...i32(3), ...SHL, ...ADD];
  const rowsLoop = (body: number[][]) => loop(...body, inc(P, get(STEP)), get(P), get(PEND), LT_U, brIf(0));
  const pointers = [
    [...get(A), ...get(R0), ...get(CH), ...MUL, ...get(C), ...ADD, ...i32(2), ...SHL, ...ADD, ...set(P)],
    [...get(A), ...get(REND), ...get(CH), ...MUL, ...get(C), ...ADD, ...i32(2), ...SHL, ...ADD, ...set(PEND)],
    [...get(B), ...get(P), ...ADD, ...get(A), ...SUB, ...set(PB)],
  ];
  const hasB = [...get(B), ...i32(0), 0x47]; // i32.ne
  // Four channels at a time, as two float64 pairs: the same operations per channel as the scalar loop.
  const pairs = [
    [...get(P), ...LOAD2_F32(0), ...PROMOTE2, ...set(VA)],
    [...get(P), ...LOAD2_F32(8), ...PROMOTE2, ...set(VB)],
    addTo2(SA, get(VA)),
    addTo2(SB, get(VB)),
  ];
  const fourBody = [
    [...zero128, ...set(SA), ...zero128, ...set(SB), ...zero128, ...set(QA), ...zero128, ...set(QB)],
    ...pointers,
    ifThen(
      hasB,
      [
        [...at8(SHIFT), ...V128_LOAD(0), ...set(MA), ...at8(SHIFT), ...V128_LOAD(16), ...set(MB)],
        rowsLoop([
          ...pairs,
          addTo2(QA, [...get(VA), ...get(PB), ...LOAD2_F32(0), ...PROMOTE2, ...get(MA), ...SUB2, ...MUL2]),
          addTo2(QB, [...get(VB), ...get(PB), ...LOAD2_F32(8), ...PROMOTE2, ...get(MB), ...SUB2, ...MUL2]),
          inc(PB, get(STEP)),
        ]),
      ],
      [
        rowsLoop([
          ...pairs,
          addTo2(QA, [...get(VA), ...get(VA), ...MUL2]),
          addTo2(QB, [...get(VB), ...get(VB), ...MUL2]),
        ]),
      ],
    ),
    [...at8(FIRST), ...at8(FIRST), ...V128_LOAD(0), ...get(SA), ...ADD2, ...V128_STORE(0)],
    [...at8(FIRST), ...at8(FIRST), ...V128_LOAD(16), ...get(SB), ...ADD2, ...V128_STORE(16)],
    [...at8(SECOND), ...at8(SECOND), ...V128_LOAD(0), ...get(QA), ...ADD2, ...V128_STORE(0)],
    [...at8(SECOND), ...at8(SECOND), ...V128_LOAD(16), ...get(QB), ...ADD2, ...V128_STORE(16)],
    inc(C, i32(4)),
  ];
  const oneBody = [
    [...f64Zero, ...set(S), ...f64Zero, ...set(SQ)],
    ...pointers,
    ifThen(
      hasB,
      [
        [...at8(SHIFT), ...F64_LOAD, ...set(M)],
        rowsLoop([
          loadA,
          addTo(S, get(V)),
          addTo(SQ, [...get(V), ...get(PB), ...F32_LOAD, ...PROMOTE, ...get(M), ...F64_SUB, ...F64_MUL]),
          inc(PB, get(STEP)),
        ]),
      ],
      [rowsLoop([loadA, addTo(S, get(V)), addTo(SQ, [...get(V), ...get(V), ...F64_MUL])])],
    ),
    [...at8(FIRST), ...at8(FIRST), ...F64_LOAD, ...get(S), ...F64_ADD, ...F64_STORE],
    [...at8(SECOND), ...at8(SECOND), ...F64_LOAD, ...get(SQ), ...F64_ADD, ...F64_STORE],
    inc(C, i32(1)),
  ];
  // while (c + 4 <= ch) fourBody; while (c < ch) oneBody
  const whileLoop = (cond: number[], body: number[][]) =>
    block(cond, [0x45], brIf(0), loop(...body, cond, brIf(0))); // 0x45: i32.eqz
  const code = [
    ...get(CH),
    ...i32(2),
    ...SHL,
    ...set(STEP),
    ...block(
      get(ROWS),
      i32(1),
      LT_S,
      brIf(0),
      loop(
        // rEnd = min(r0 + block, rows)
        [
          ...get(R0),
          ...get(BLOCK),
          ...ADD,
          ...get(ROWS),
          ...get(R0),
          ...get(BLOCK),
          ...ADD,
          ...get(ROWS),
          ...LT_S,
          ...SELECT,
          ...set(REND),
        ],
        [...i32(0), ...set(C)],
        whileLoop([...get(C), ...i32(4), ...ADD, ...get(CH), ...[0x4c]], fourBody), // i32.le_s
        whileLoop([...get(C), ...get(CH), ...LT_S], oneBody),
        [...get(REND), ...set(R0)],
        get(R0),
        get(ROWS),
        LT_S,
        brIf(0),
      ),
    ),
  ];
  return {
    name: 'channelSums',
    params: 8,
    locals: [
      [7, I32],
      [4, F64],
      [8, V128],
    ],
    code,
  };
}

/**
 * gatherRuns(dst, src, count, len, dstStride, srcStride, srcStep): `count` runs of `len` floats; run j is read
 * from src + j srcStride, srcStep bytes apart, and written contiguously at dst + j dstStride.
 */
function gatherRunsBody(): Fn {
  const DST = 0,
    SRC = 1,
    COUNT = 2,
    LEN = 3,
    DST_STRIDE = 4,
    SRC_STRIDE = 5,
    SRC_STEP = 6;
  const J = 7,
    Q = 8,
    D = 9,
    S = 10;
  const code = forRange(J, get(COUNT), [
    ifThen(
      [...get(SRC_STEP), ...i32(4), ...EQ],
      [[...get(DST), ...get(SRC), ...get(LEN), ...i32(2), ...SHL, ...MEMORY_COPY]],
      [
        [...get(DST), ...set(D), ...get(SRC), ...set(S)],
        forRange(Q, get(LEN), [
          [...get(D), ...get(S), ...F32_LOAD, ...F32_STORE],
          inc(D, i32(4)),
          inc(S, get(SRC_STEP)),
        ]),
      ],
    ),
    inc(DST, get(DST_STRIDE)),
    inc(SRC, get(SRC_STRIDE)),
  ]);
  return { name: 'gatherRuns', params: 7, locals: [[4, I32]], code };
}

/**
 * maxPool2Grad4(x, dy, dx, rows, ow, c): maxPool2Grad for c a multiple of 4, four channels at a time (SIMD):
 * per window, masks of "beats the best so far" (a > -Infinity, then b, d, e > best: NaN never wins), and each
 * input gets dy where it is the last one to beat the best, else +0, as the scalar loop's select does.
 */
function maxPool2Grad4Body(): Fn {
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
  const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
  const V128_LOAD = simd(0, 4, 0);
  const V128_STORE = simd(11, 4, 0);
  const GT = simd(0x44);
  const AND = simd(0x4e);
  const ANDNOT = simd(0x4f);
  const OR = simd(0x50);
  const BITSELECT = simd(0x52);
  const SPLAT = simd(0x13);
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
    ...[...negInf, ...SPLAT, ...set(NEG_INF)],
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

function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const fns = [
    im2colRowsBody(),
    copyRunsBody(),
    maxPool2GradBody(),
    channelSumsBody(),
    gatherRunsBody(),
    maxPool2Grad4Body(),
  ];
  const types = fns.map((fn) => [0x60, ...vec(Array.from({ length: fn.params }, () => [I32])), ...vec([])]);
  // Shared memories must declare a maximum; 65536 pages (4 GiB) admits any.
  const limits = shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  const memoryImport = [...str('env'), ...str('memory'), 0x02, ...limits];
  const codes = fns.map((fn) => {
    const code = [...vec(fn.locals.map(([n, t]) => [...uleb(n), t])), ...fn.code, ...END];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((fn, i) => [...str(fn.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(codes)),
  ]);
}

export interface WasmLoops {
  im2colRows(
    dst: number,
    src: number,
    images: number,
    oh: number,
    ow: number,
    h: number,
    w: number,
    sh: number,
    step: number,
    rowOff: number,
    colOff: number,
    lo: number,
    hi: number,
    pix: number,
  ): void;
  copyRuns(
    dst: number,
    src: number,
    count: number,
    bytes: number,
    dstStride: number,
    srcStride: number,
  ): void;
  gatherRuns(
    dst: number,
    src: number,
    count: number,
    len: number,
    dstStride: number,
    srcStride: number,
    srcStep: number,
  ): void;
  maxPool2Grad(x: number, dy: number, dx: number, rows: number, ow: number, c: number): void;
  maxPool2Grad4(x: number, dy: number, dx: number, rows: number, ow: number, c: number): void;
  channelSums(
    a: number,
    b: number,
    shift: number,
    rows: number,
    channels: number,
    first: number,
    second: number,
    blockRows: number,
  ): void;
}

const made = new WeakMap<object, WasmLoops | null>();

/** The loops on this backend's memory, or null where they cannot be made (the caller keeps its JS loops). */
export function wasmLoops(backend: BackendWasm): WasmLoops | null {
  // Emscripten exports the memory as asm.memory in tfjs's single-threaded builds; the threaded build imports a
  // shared one, which it keeps as wasmMemory.
  const module = backend.wasm as unknown as {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
  };
  const memory = module.asm?.memory ?? module.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (made.has(memory)) return made.get(memory) ?? null;
  let loops: WasmLoops | null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(shared)), {
      env: { memory },
    });
    loops = instance.exports as unknown as WasmLoops;
  } catch {
    loops = null;
  }
  made.set(memory, loops);
  return loops;
}

/** The byte address of a tensor's data on the wasm heap. */
export function heapAddress(backend: BackendWasm, dataId: object): number {
  const data = backend.dataIdMap.get(dataId);
  if (data == null) throw new Error('wasmLoops: the tensor has no data on the wasm heap');
  return data.memoryOffset;
}
