/**
 * The data-movement loops of the lab's wasm module (wasmLoops.ts has the API and docs/design.md §5 the why):
 * the transposed im2col rows of Conv2DBackpropFilter, runs copied or gathered with strides (the
 * shifted-window grid, the stride-phase interleave of Conv2DBackpropInput), and rows gathered by an index
 * table (GatherV2, wasmGather.ts). Byte addresses throughout.
 */
import {
  ADD,
  block,
  brIf,
  EQ,
  F32_LOAD,
  F32_STORE,
  type Fn,
  forRange,
  get,
  I32,
  I32_LOAD,
  i32,
  ifThen,
  inc,
  loop,
  LT_S,
  LT_U,
  MEMORY_COPY,
  MUL,
  set,
  SHL,
  SUB,
  zero,
} from './wasmAssembler';

export function im2colRowsBody(): Fn {
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
export function copyRunsBody(): Fn {
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
 * gatherRuns(dst, src, count, len, dstStride, srcStride, srcStep): `count` runs of `len` floats; run j is read
 * from src + j srcStride, srcStep bytes apart, and written contiguously at dst + j dstStride.
 */
export function gatherRunsBody(): Fn {
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
 * gatherRows(dst, src, table, count, rowBytes): `count` rows of `rowBytes` bytes, row j copied from
 * src + table[j] rowBytes to dst + j rowBytes, table an int32 array (indices already checked by the caller):
 * a GatherV2 block (whole rows along axis 0).
 */
export function gatherRowsBody(): Fn {
  const DST = 0,
    SRC = 1,
    TABLE = 2,
    COUNT = 3,
    ROW_BYTES = 4,
    J = 5;
  const code = forRange(J, get(COUNT), [
    [...get(DST), ...get(SRC), ...get(TABLE), ...I32_LOAD, ...get(ROW_BYTES), ...MUL, ...ADD],
    [...get(ROW_BYTES), ...MEMORY_COPY],
    inc(DST, get(ROW_BYTES)),
    inc(TABLE, i32(4)),
  ]);
  return { name: 'gatherRows', params: 5, locals: [[1, I32]], code };
}

/**
 * padImages(dst, src, images, h, w, c): NHWC images [images, h, w, c] at src written at dst with one zero row and
 * column around each, [images, h + 2, w + 2, c]: PadV2's output for Winograd's tiles (winogradConv.ts), made
 * here so that the loop team can split it by images and each thread transforms the images it padded.
 */
export function padImagesBody(): Fn {
  const DST = 0,
    SRC = 1,
    IMAGES = 2,
    H = 3,
    W = 4,
    C = 5;
  const PIX = 6,
    ROW = 7,
    PADDED_ROW = 8,
    M = 9,
    R = 10;
  const fill = (bytes: number[]) => [zero(get(DST), bytes), inc(DST, bytes)];
  const code = [
    ...[...get(C), ...i32(2), ...SHL, ...set(PIX)],
    ...[...get(W), ...get(PIX), ...MUL, ...set(ROW)],
    ...[...get(ROW), ...get(PIX), ...i32(1), ...SHL, ...ADD, ...set(PADDED_ROW)],
    ...forRange(M, get(IMAGES), [
      // The top row and the first row's left column.
      ...fill([...get(PADDED_ROW), ...get(PIX), ...ADD]),
      forRange(R, get(H), [
        [...get(DST), ...get(SRC), ...get(ROW), ...MEMORY_COPY],
        inc(DST, get(ROW)),
        inc(SRC, get(ROW)),
        // This row's right column and the next row's left one (after the last row: the bottom row's first pixel).
        ...fill([...get(PIX), ...i32(1), ...SHL]),
      ]),
      // The rest of the bottom row.
      ...fill([...get(PADDED_ROW), ...get(PIX), ...SUB]),
    ]),
  ];
  return { name: 'padImages', params: 6, locals: [[5, I32]], code };
}
