/**
 * The training BatchNorm's per-channel sums as a loop of the lab's wasm module (wasmLoops.ts has the API,
 * trainingBatchNorm.ts the JS loop whose order and sums it keeps, docs/design.md §5 the why).
 */
import {
  ADD,
  block,
  brIf,
  F32_LOAD,
  F64,
  type Fn,
  get,
  I32,
  i32,
  ifThen,
  inc,
  loop,
  LT_S,
  LT_U,
  MUL,
  set,
  SHL,
  simd,
  SUB,
  uleb,
  V128,
} from './wasmAssembler';

/**
 * channelSums(a, b, shift, rows, channels, first, second, blockRows): per-channel sums over the rows of
 * [rows, channels] float32 data, in float64, added to first[c] and second[c] (float64 arrays): of a, and of
 * a * (b - shift[c]) when b is not 0, else of a * a. Blocks of `blockRows` rows, each channel's block summed
 * into a local that is then added: the order of trainingBatchNorm's JS loop, so the sums are the same.
 */
export function channelSumsBody(): Fn {
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
