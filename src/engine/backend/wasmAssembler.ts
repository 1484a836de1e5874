/**
 * A minimal WebAssembly assembler for the lab's own loops (wasmLoops.ts): the binary encodings the loops use
 * (LEB128 numbers, the instructions, structured control flow) and one module layout: functions of i32
 * parameters and no result, exported by name, over an imported memory `env.memory` (shared when tfjs's
 * threaded build runs). Encodings as in the WebAssembly core specification (binary format, chapter 5) and its
 * SIMD and bulk-memory extensions; docs/design.md §5 says why the loops are not JS.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** One exported function: i32 params, no result, its locals as [count, type] runs, its body. */
export interface Fn {
  readonly name: string;
  readonly params: number;
  readonly locals: [number, number][];
  readonly code: number[];
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
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

export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
export const str = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
export const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

// Instructions, as byte arrays.
export const get = (i: number) => [0x20, ...uleb(i)];
export const set = (i: number) => [0x21, ...uleb(i)];
export const i32 = (v: number) => [0x41, ...sleb(v)];
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const SHL = [0x74];
export const LT_U = [0x49];
export const LT_S = [0x48];
export const EQ = [0x46];
export const F32_LOAD = [0x2a, 2, 0];
export const F32_STORE = [0x38, 2, 0];
export const MEMORY_COPY = [0xfc, 10, 0, 0];
export const MEMORY_FILL = [0xfc, 11, 0];
export const END = [0x0b];
export const block = (...body: number[][]) => [0x02, 0x40, ...body.flat(), ...END];
export const loop = (...body: number[][]) => [0x03, 0x40, ...body.flat(), ...END];
export const ifThen = (cond: number[], then: number[][], otherwise?: number[][]) => [
  ...cond,
  0x04,
  0x40,
  ...then.flat(),
  ...(otherwise ? [0x05, ...otherwise.flat()] : []),
  ...END,
];
export const brIf = (depth: number) => [0x0d, ...uleb(depth)];
/** local = local + v */
export const inc = (local: number, v: number[]) => [...get(local), ...v, ...ADD, ...set(local)];
/** A do-while over `counter` from 0 to `limit` (exclusive), skipped when limit <= 0. */
export const forRange = (counter: number, limit: number[], body: number[][]) =>
  block(
    i32(0),
    set(counter),
    ...[limit, i32(1), LT_S, brIf(0)],
    loop(...body, inc(counter, i32(1)), get(counter), limit, LT_S, brIf(0)),
  );
/** SIMD instructions: the 0xfd prefix, the opcode (LEB128), its immediates. */
export const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
/** v128.load / v128.store, 16-byte alignment hint, offset 0. */
export const V128_LOAD = simd(0, 4, 0);
export const V128_STORE = simd(11, 4, 0);
export const F32X4_SPLAT = simd(0x13);
export const F32X4_NEG = simd(0xe1);
export const F32X4_ADD = simd(0xe4);
export const F32X4_SUB = simd(0xe5);
export const F32X4_MUL = simd(0xe6);
export const F32X4_MAX = simd(0xe9);
export const I32_LOAD = [0x28, 2, 0];
/** f32.const v */
export const f32 = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
/** local `to` = a `o` b, for locals a and b and a binary instruction o. */
export const op = (to: number, a: number, b: number, o: number[]) => [...get(a), ...get(b), ...o, ...set(to)];
/** A do-while over `counter` from its value (0) up to `limit` bytes, 16 at a time: limit a positive multiple of 16. */
export const loopBytes = (counter: number, limit: number, body: number[]) =>
  loop(body, inc(counter, i32(16)), get(counter), get(limit), LT_S, brIf(0));

/**
 * `body` once per 16 bytes of local `bytes` (a multiple of 16), local `offset` from 0 up, nothing when bytes <= 0;
 * `at(base)` in the body is local `base` plus the offset: the frame of the lab's one-pass elementwise loops.
 */
export function overBytes(offset: number, bytes: number, body: (at: (base: number) => number[]) => number[]) {
  const at = (base: number) => [...get(base), ...get(offset), ...ADD];
  return [
    ...i32(0),
    ...set(offset),
    ...ifThen([...i32(0), ...get(bytes), ...LT_S], [loopBytes(offset, bytes, body(at))]),
  ];
}

/** memory.fill(dst, 0, bytes) */
export const zero = (dst: number[], bytes: number[]) => [...dst, ...i32(0), ...bytes, ...MEMORY_FILL];

/**
 * The module bytes: `fns` exported by their names, each of type (i32 x params) -> (), importing `env.memory`
 * (declared shared with a maximum when `shared`, as shared memories must be).
 */
export function assembleModule(fns: readonly Fn[], shared: boolean): Uint8Array<ArrayBuffer> {
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
