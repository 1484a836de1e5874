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

function im2colRowsBody(): { params: number; locals: number; code: number[] } {
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
  return { params: 13, locals: 5, code: body };
}

function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const fn = im2colRowsBody();
  const type = [0x60, ...vec(Array.from({ length: fn.params }, () => [I32])), ...vec([])];
  // Shared memories must declare a maximum; 65536 pages (4 GiB) admits any.
  const limits = shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  const memoryImport = [...str('env'), ...str('memory'), 0x02, ...limits];
  const code = [...vec([[...uleb(fn.locals), I32]]), ...fn.code, ...END];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([type])),
    ...section(2, vec([memoryImport])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str('im2colRows'), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
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
