/**
 * Data-movement loops of the wasm training kernels as a small WebAssembly module of our own, run on
 * tfjs-backend-wasm's own memory (imported, so no copies), where plain JS loops cost ~2.5 ns per element
 * (docs/design.md §5, wasm training kernels). The module is assembled here from its bytes (a few hundred),
 * so there is no build step or file to serve; it uses bulk memory (memory.copy, memory.fill), which every
 * engine with wasm SIMD (which tfjs-backend-wasm needs for XNNPACK's fast path) has. Where it cannot be
 * made (no exported memory to import, an engine without bulk memory), `wasmLoops` returns null and the
 * callers keep their JS loops.
 *
 * im2colRows(dst, src, images, oh, ow, h, w, sh, sw, rowOff, colOff, lo, hi): for one row (ki, kj, c) of a
 * transposed im2col matrix, writes images x oh x ow floats at dst: for image m, output row r and column q,
 * src[(m h + r sh + rowOff) w + q sw + colOff] where that row lies in [0, h) and lo <= q < hi, else 0.
 * Byte addresses; src points at the channel's first image.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const I32 = 0x7f;
const F32 = 0x7d;

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
    SW = 8,
    ROW_OFF = 9,
    COL_OFF = 10,
    LO = 11,
    HI = 12;
  const M = 13,
    R = 14,
    IH = 15,
    ROW = 16,
    Q = 17;
  const x4 = (v: number[]) => [...v, ...i32(2), ...SHL];
  const rowBytes = x4(get(OW));
  const body = forRange(M, get(IMAGES), [
    forRange(R, get(OH), [
      // ih = r * sh + rowOff
      [...get(R), ...get(SH), ...MUL, ...get(ROW_OFF), ...ADD, ...set(IH)],
      ifThen(
        [...get(IH), ...get(H), ...LT_U],
        [
          // row = src + ((m * h + ih) * w + colOff) * 4
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
            ]),
            ...ADD,
            ...set(ROW),
          ],
          zero(get(DST), x4(get(LO))),
          ifThen(
            [...get(SW), ...i32(1), ...EQ],
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
                  [...get(ROW), ...x4([...get(Q), ...get(SW), ...MUL]), ...ADD, ...F32_LOAD],
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
  return { name: 'im2colRows', params: 13, locals: [[5, I32]], code: body };
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

function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const fns = [im2colRowsBody(), copyRunsBody(), maxPool2GradBody()];
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
    sw: number,
    rowOff: number,
    colOff: number,
    lo: number,
    hi: number,
  ): void;
  copyRuns(
    dst: number,
    src: number,
    count: number,
    bytes: number,
    dstStride: number,
    srcStride: number,
  ): void;
  maxPool2Grad(x: number, dy: number, dx: number, rows: number, ow: number, c: number): void;
}

const made = new WeakMap<object, WasmLoops | null>();

/** The loops on this backend's memory, or null where they cannot be made (the caller keeps its JS loops). */
export function wasmLoops(backend: BackendWasm): WasmLoops | null {
  const module = backend.wasm as unknown as { asm?: { memory?: WebAssembly.Memory } };
  const memory = module.asm?.memory;
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
