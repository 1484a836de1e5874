/**
 * C = A B for a long inner dimension, as a loop of the lab's wasm module (wasmLoops.ts has the API, docs/design.md
 * §5 the why): the weight gradients' products, [rows, pixels] x [pixels, cout], whose inner dimension is every
 * output pixel of the batch. wasm's BatchMatMul hands them to XNNPACK's fully-connected operator, which packs its
 * right operand afresh for each product at ~7 ns a float (measured: [27, 65536] x [65536, 16] 10.0 ms with a
 * fresh right operand, 2.2 with one XNNPACK had packed before), so packing dy cost more than the products. This
 * loop reads both operands as they are: per block of Kc inner indices (so that B's block stays in the L1 cache),
 * for each pair of A's rows and 16 of B's columns, 8 accumulators of 4 floats. Sums run in index order within a
 * block and are added to C block after block: a rounding order unlike XNNPACK's (~1e-7 relative apart).
 */
import {
  ADD,
  brIf,
  F32_LOAD,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  type Fn,
  f32,
  forRange,
  get,
  I32,
  i32,
  ifThen,
  inc,
  loop,
  LT_S,
  MUL,
  set,
  simd,
  V128,
} from './wasmAssembler';
import type { WasmLoops } from './wasmLoops';
import { guidedRanges, teamFor } from './wasmTeam';

/** v128.load / v128.store at a constant byte offset (16-byte alignment hint). */
const loadAt = (offset: number) => simd(0, 4, offset);
const storeAt = (offset: number) => simd(11, 4, offset);

/**
 * longProductPanel(a, b, c, rows, kc, lda, ldb, ldc, load, aStep): C[r, 0:16] (+)= sum over i < kc of A[r, i]
 * B[i, 0:16] for r < rows, with byte row strides lda, ldb, ldc, and A[r, i + 1] aStep bytes after A[r, i] (4 for A
 * as rows; A given transposed, [kc, rows], has lda 4 and aStep 4 rows); C's old values are added to when `load`
 * is not 0, else overwritten.
 */
export function longProductPanelBody(): Fn {
  const A = 0,
    B = 1,
    C = 2,
    ROWS = 3,
    KC = 4,
    LDA = 5,
    LDB = 6,
    LDC = 7,
    LOAD = 8,
    ASTEP = 9;
  const R = 10,
    PA0 = 11,
    PA1 = 12,
    PB = 13,
    KI = 14,
    PC0 = 15,
    PC1 = 16;
  const ACC = 17, // 8 accumulators: row 0's 4 vectors, then row 1's
    BV = 25, // B's 4 vectors at this inner index
    S0 = 29,
    S1 = 30;
  // One row block of 1 or 2 rows, starting at row R.
  const rowsBlock = (pair: boolean) => {
    const rowsHere = pair ? 2 : 1;
    const accs = (row: number) => [0, 1, 2, 3].map((v) => ACC + 4 * row + v);
    const init = (row: number, pc: number) =>
      accs(row).flatMap((acc, v) => [
        ...ifThen(
          get(LOAD),
          [[...get(pc), ...loadAt(16 * v), ...set(acc)]],
          [[...f32(0), ...F32X4_SPLAT, ...set(acc)]],
        ),
      ]);
    const store = (row: number, pc: number) =>
      accs(row).flatMap((acc, v) => [...get(pc), ...get(acc), ...storeAt(16 * v)]);
    const step = (row: number, s: number) =>
      accs(row).flatMap((acc, v) => [
        ...get(acc),
        ...get(s),
        ...get(BV + v),
        ...F32X4_MUL,
        ...F32X4_ADD,
        ...set(acc),
      ]);
    return [
      ...[...get(C), ...get(R), ...get(LDC), ...MUL, ...ADD, ...set(PC0)],
      ...[...get(PC0), ...get(LDC), ...ADD, ...set(PC1)],
      ...Array.from({ length: rowsHere }, (_, row) => init(row, row === 0 ? PC0 : PC1)).flat(),
      ...[...get(A), ...get(R), ...get(LDA), ...MUL, ...ADD, ...set(PA0)],
      ...[...get(PA0), ...get(LDA), ...ADD, ...set(PA1)],
      ...[...get(B), ...set(PB)],
      ...forRange(KI, get(KC), [
        [0, 1, 2, 3].flatMap((v) => [...get(PB), ...loadAt(16 * v), ...set(BV + v)]),
        [...get(PA0), ...F32_LOAD, ...F32X4_SPLAT, ...set(S0)],
        pair ? [...get(PA1), ...F32_LOAD, ...F32X4_SPLAT, ...set(S1)] : [],
        step(0, S0),
        pair ? step(1, S1) : [],
        inc(PA0, get(ASTEP)),
        inc(PA1, get(ASTEP)),
        inc(PB, get(LDB)),
      ]),
      ...Array.from({ length: rowsHere }, (_, row) => store(row, row === 0 ? PC0 : PC1)).flat(),
    ];
  };
  const code = [
    ...[...i32(0), ...set(R)],
    // Pairs while R + 2 <= rows, then the last row alone.
    ...ifThen(
      [...i32(1), ...get(ROWS), ...LT_S],
      [loop(rowsBlock(true), inc(R, i32(2)), get(R), i32(1), ADD, get(ROWS), LT_S, brIf(0))],
    ),
    ...ifThen([...get(R), ...get(ROWS), ...LT_S], [rowsBlock(false)]),
  ];
  return {
    name: 'longProductPanel',
    params: 10,
    locals: [
      [7, I32],
      [14, V128],
    ],
    code,
  };
}

/** Columns per panel: 4 vectors. */
export const PANEL_COLUMNS = 16;

/**
 * Most rows the loop takes: it re-reads A once per panel, so with many rows and columns and a short inner
 * dimension XNNPACK's blocked product wins despite its packing (measured, dW by im2col of a 4x4 map, 128 -> 256
 * channels: rows 1152, 34 ms against 24; rows 576: 6.3 against 7.8 down to 7.8 against 7.2).
 */
export const MAX_LONG_PRODUCT_ROWS = 512;

let enabled = true;

/** Turns the loop off (every product back to XNNPACK, Winograd's dW to small maps): for tests and profiling. */
export function setLongProductEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Inner dimension up to which any row count is taken: A's rows then stay in the L2 cache between panels
 * (Winograd's forward products, [tiles, cin] x [cin, cout]: batch 64, 8x8 maps, 1024 rows, 32 -> 64: 3.2 -> 2.8 ms;
 * batch 10, 16x16, 640 rows, 32 -> 16: 0.76 -> 0.57).
 */
export const MAX_SHORT_INNER = 128;

/**
 * Whether the loop takes a [rows, inner] x [inner, cols] product: whole panels of columns, and not too many rows
 * unless the inner dimension is short (pass it where it may be).
 */
export const longProductFits = (rows: number, cols: number, inner = Number.POSITIVE_INFINITY) =>
  enabled &&
  rows > 0 &&
  (rows <= MAX_LONG_PRODUCT_ROWS || inner <= MAX_SHORT_INNER) &&
  cols > 0 &&
  cols % PANEL_COLUMNS === 0;

/** Inner indices per block: B's block of inner x cols floats within 32 KiB (L1), at least 16. */
export const innerBlock = (cols: number) => Math.max(16, Math.floor(8192 / cols));

let products = 0;

/** How many products the loop has run so far: tests tell by it which path a weight gradient took. */
export const longProducts = () => products;

/**
 * Products smaller than this (multiply-adds) stay on the calling thread: a part handed to a helper costs a few
 * microseconds of posting and waking (docs/design.md §5, "The loop team").
 */
export const MIN_TEAM_PRODUCT = 1 << 18;

/** The team's task kind for a part of a product (run by productParts; the helpers' table is in wasmTeamStart.ts). */
export const PRODUCT_TASK = 0;

/**
 * C [rows, cols] = A [rows, inner] B [inner, cols] at byte addresses, rows of A `lda` bytes apart (4 inner for
 * a dense A), B and C dense; added to C's values when `accumulate`. cols must be whole panels of 16. Split over
 * the loop team where there is one (wasmTeam.ts): by rows, or by panels of columns, so that every output is
 * summed in the same order as on one thread.
 */
export function longProduct(
  loops: WasmLoops,
  a: number,
  b: number,
  c: number,
  rows: number,
  inner: number,
  cols: number,
  lda: number,
  accumulate: boolean,
): void {
  longProductBatch(loops, 1, [a, b, c], [0, 0, 0], rows, inner, cols, lda, accumulate);
}

/**
 * `count` products of one shape as longProduct says, product i's A, B and C at `first` + i `steps` (bytes): the
 * team splits them all at once (Winograd's 16), so that its helpers are woken once, not 16 times. `aStep`: bytes
 * from A[r, i] to A[r, i + 1]; with A given transposed ([inner, rows], read in place instead of a transpose
 * pass), `lda` 4 and `aStep` 4 rows.
 */
export function longProductBatch(
  loops: WasmLoops,
  count: number,
  first: readonly [a: number, b: number, c: number],
  steps: readonly [a: number, b: number, c: number],
  rows: number,
  inner: number,
  cols: number,
  lda: number,
  accumulate: boolean,
  aStep = 4,
): void {
  if (cols <= 0 || cols % PANEL_COLUMNS !== 0)
    throw new Error(`longProduct: ${cols} columns are not whole panels of ${PANEL_COLUMNS}`);
  products += count;
  const panels = cols / PANEL_COLUMNS;
  const work = count * rows * inner * cols;
  const team = work >= MIN_TEAM_PRODUCT ? teamFor(loops) : undefined;
  const parts = splitProduct(rows, panels, count, team?.parts() ?? 1, (MIN_PART_PRODUCT * rows) / work);
  const [a, b, c] = first;
  const part = (p: ProductPart): ProductArgs => [
    a + p.first * steps[0] + p.row0 * lda,
    b + p.first * steps[1],
    c + p.first * steps[2] + 4 * p.row0 * cols,
    p.rows,
    inner,
    cols,
    lda,
    accumulate ? 1 : 0,
    p.panel0,
    p.panel1,
    p.count,
    ...steps,
    aStep,
  ];
  if (team == null || parts.length === 1) productParts(loops, part(parts[0]!));
  else team.run(PRODUCT_TASK, parts.map(part), (args) => productParts(loops, args as ProductArgs));
}

interface ProductPart {
  /** Products [first, first + count) of the batch. */
  readonly first: number;
  readonly count: number;
  readonly row0: number;
  readonly rows: number;
  readonly panel0: number;
  readonly panel1: number;
}

/** A thread's part of longProductBatch: what the product task's arguments hold, in this order. */
export type ProductArgs = readonly [
  a: number,
  b: number,
  c: number,
  rows: number,
  inner: number,
  cols: number,
  lda: number,
  accumulate: number,
  panel0: number,
  panel1: number,
  count: number,
  stepA: number,
  stepB: number,
  stepC: number,
  aStep: number,
];

/** A part's least work in a split product (multiply-adds): a part costs about a microsecond to take. */
const MIN_PART_PRODUCT = MIN_TEAM_PRODUCT / 4;

/**
 * The parts of `count` products for `threads` threads taking them in turn (wasmTeam.ts guidedRanges), large
 * first and small last: runs of whole products where there are enough of them (Winograd's 16: no two threads
 * read the same operands, and a transposed A's cache lines are read by one part, not by every part of a few of
 * its rows); else runs of pairs of rows (as the loop takes them), none under `minRows` where that many can be
 * had; where the rows are too few for that too, panels as evenly as they go, one per thread.
 */
export function splitProduct(
  rows: number,
  panels: number,
  count: number,
  threads: number,
  minRows = 2,
): ProductPart[] {
  const all = { first: 0, count, row0: 0, rows, panel0: 0, panel1: panels };
  if (threads > 1 && count >= 2 * threads)
    return guidedRanges(count, threads, 1).map(([from, to]) => ({ ...all, first: from, count: to - from }));
  const pairs = Math.ceil(rows / 2);
  if (threads > 1 && pairs >= 2 * threads) {
    return guidedRanges(pairs, threads, minRows / 2).map(([from, to]) => ({
      ...all,
      row0: 2 * from,
      rows: Math.min(2 * to, rows) - 2 * from,
    }));
  }
  const n = Math.max(1, Math.min(threads, panels));
  return Array.from({ length: n }, (_, i) => ({
    ...all,
    panel0: Math.floor((i * panels) / n),
    panel1: Math.floor(((i + 1) * panels) / n),
  }));
}

/**
 * Panels [panel0, panel1) of `count` products C [rows, cols] = A B, as longProductBatch describes them; one thread's
 * part. Per product, per block of inner indices, panel after panel (B's block in L1, A's rows in L2).
 */
export function productParts(loops: WasmLoops, args: ProductArgs | Int32Array): void {
  const [a, b, c, rows, inner, cols, lda, accumulate, panel0, panel1, count, stepA, stepB, stepC, aStep] =
    args as ProductArgs;
  const kc = innerBlock(cols);
  for (let i = 0; i < count; i++) {
    // An empty inner dimension still makes one pass of length 0: C zeroed (or kept, when accumulating).
    for (let k0 = 0; k0 < Math.max(inner, 1); k0 += kc) {
      const len = Math.max(0, Math.min(kc, inner - k0));
      const load = accumulate || k0 > 0 ? 1 : 0;
      for (let n0 = panel0 * PANEL_COLUMNS; n0 < panel1 * PANEL_COLUMNS; n0 += PANEL_COLUMNS) {
        loops.longProductPanel(
          a + i * stepA + aStep * k0,
          b + i * stepB + 4 * (k0 * cols + n0),
          c + i * stepC + 4 * n0,
          rows,
          len,
          lda,
          4 * cols,
          4 * cols,
          load,
          aStep,
        );
      }
    }
  }
}
