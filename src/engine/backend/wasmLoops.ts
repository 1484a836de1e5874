/**
 * Data-movement loops of the wasm training kernels as a small WebAssembly module of our own, run on
 * tfjs-backend-wasm's own memory (imported, so no copies), where plain JS loops cost ~2.5 ns per element
 * (docs/design.md §5, wasm training kernels). The module is assembled from its bytes (a few hundred) by
 * wasmAssembler.ts, so there is no build step or file to serve; it uses bulk memory (memory.copy,
 * memory.fill) and SIMD, which the engines that run tfjs-backend-wasm's SIMD build (XNNPACK's fast path)
 * have. Where it cannot be made (no memory to import, an engine without SIMD or bulk memory), `wasmLoops`
 * returns null and the callers keep their JS loops. The loops: wasmCopyLoops.ts, wasmMaxPoolLoops.ts,
 * wasmChannelSums.ts, wasmChannelAffine.ts, wasmWinogradLoops.ts,
 * wasmWinogradGradLoops.ts, wasmLongProduct.ts, wasmReluGrad.ts, wasmMomentum.ts.
 *
 * im2colRows(dst, src, images, oh, ow, h, w, sh, step, rowOff, colOff, lo, hi, pix): for one row (ki, kj, c)
 * of a transposed im2col matrix, writes images x oh x ow floats at dst: for image m, output row r and column
 * q, src[((m h + r sh + rowOff) w + colOff) pix + q step] where that row lies in [0, h) and lo <= q < hi,
 * else 0. Byte addresses; src points at channel c of the first image, pix is the floats per pixel (the
 * channels, for NHWC x) and step = stride x pix.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { util } from '@tensorflow/tfjs-core';
import { assembleModule } from './wasmAssembler';
import { channelAffineBody } from './wasmChannelAffine';
import { channelSumsBody } from './wasmChannelSums';
import { copyRunsBody, gatherRowsBody, gatherRunsBody, im2colRowsBody, padImagesBody } from './wasmCopyLoops';
import { longProductPanelBody } from './wasmLongProduct';
import { maxPool2Grad4Body, maxPool2GradBody } from './wasmMaxPoolLoops';
import { momentumUpdateBody } from './wasmMomentum';
import { reluGradBody } from './wasmReluGrad';
import { transpose4Body, winogradGradFilterBody, winogradGradTilesBody } from './wasmWinogradGradLoops';
import { winogradFilterBody, winogradInputBody, winogradOutputBody } from './wasmWinogradLoops';

/** The module's functions, in export order (wasmAssembler.ts makes the bytes). */
const moduleBytes = (shared: boolean) =>
  assembleModule(
    [
      im2colRowsBody(),
      copyRunsBody(),
      maxPool2GradBody(),
      channelSumsBody(),
      gatherRunsBody(),
      maxPool2Grad4Body(),
      winogradFilterBody(),
      winogradInputBody(),
      winogradOutputBody(),
      winogradGradTilesBody(),
      transpose4Body(),
      winogradGradFilterBody(),
      channelAffineBody(),
      gatherRowsBody(),
      longProductPanelBody(),
      reluGradBody(),
      padImagesBody(),
      momentumUpdateBody(),
    ],
    shared,
  );

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
  /** wasmCopyLoops.ts says what it does. */
  padImages(dst: number, src: number, images: number, h: number, w: number, c: number): void;
  /** wasmCopyLoops.ts says what it does. */
  gatherRows(dst: number, src: number, table: number, count: number, rowBytes: number): void;
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
  /** wasmWinogradLoops.ts says what the three do. */
  winogradFilter(g: number, u: number, cin: number, cout: number, matrixBytes: number): void;
  winogradInput(
    xp: number,
    v: number,
    n: number,
    th: number,
    tw: number,
    c: number,
    matrixBytes: number,
  ): void;
  winogradOutput(
    table: number,
    y: number,
    bias: number,
    n: number,
    th: number,
    tw: number,
    k: number,
    relu: number,
  ): void;
  /** wasmWinogradGradLoops.ts says what these do. */
  winogradGradTiles(
    dy: number,
    w: number,
    n: number,
    th: number,
    tw: number,
    k: number,
    matrixBytes: number,
  ): void;
  transpose4(src: number, dst: number, rows: number, cols: number, count: number): void;
  winogradGradFilter(table: number, dw: number, c: number, k: number, add: number): void;
  /** wasmChannelAffine.ts says what it does. */
  channelAffine(
    out: number,
    p: number,
    q: number,
    a: number,
    b: number,
    shift: number,
    rows: number,
    channels: number,
  ): void;
  /** wasmLongProduct.ts says what it does. */
  longProductPanel(
    a: number,
    b: number,
    c: number,
    rows: number,
    kc: number,
    lda: number,
    ldb: number,
    ldc: number,
    load: number,
    aStep: number,
  ): void;
  /** wasmReluGrad.ts says what it does. */
  reluGrad(dy: number, x: number, dx: number, bytes: number): void;
  /** wasmMomentum.ts says what it does. */
  momentumUpdate(
    value: number,
    acc: number,
    grad: number,
    newAcc: number,
    newValue: number,
    bytes: number,
    mBits: number,
    cBits: number,
  ): void;
}

const made = new WeakMap<object, WasmLoops | null>();

/** The memory of this backend's module, or null where it cannot be found. */
export function wasmMemory(backend: BackendWasm): WebAssembly.Memory | null {
  // Emscripten exports the memory as asm.memory in tfjs's single-threaded builds; the threaded build imports a
  // shared one, which it keeps as wasmMemory.
  const module = backend.wasm as unknown as {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
  };
  const memory = module.asm?.memory ?? module.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** The loops on this backend's memory, or null where they cannot be made (the caller keeps its JS loops). */
export function wasmLoops(backend: BackendWasm): WasmLoops | null {
  const memory = wasmMemory(backend);
  return memory == null ? null : loopsOnMemory(memory);
}

/** The module compiled, per kind of memory: compiled once, and sent compiled to the loop team's helpers. */
const compiled = new Map<boolean, WebAssembly.Module>();

/** The loop module for a shared memory or not, compiled (once); throws where this engine cannot compile it. */
export function loopModule(shared: boolean): WebAssembly.Module {
  let module = compiled.get(shared);
  if (module == null) {
    module = new WebAssembly.Module(moduleBytes(shared));
    compiled.set(shared, module);
  }
  return module;
}

const isShared = (memory: WebAssembly.Memory) =>
  typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;

/**
 * The loops on a module memory (one instance per memory and thread), or null where they cannot be made; a
 * helper passes the module it was sent.
 */
export function loopsOnMemory(memory: WebAssembly.Memory, module?: WebAssembly.Module): WasmLoops | null {
  if (made.has(memory)) return made.get(memory) ?? null;
  let loops: WasmLoops | null;
  try {
    const instance = new WebAssembly.Instance(module ?? loopModule(isShared(memory)), { env: { memory } });
    loops = instance.exports as unknown as WasmLoops;
  } catch {
    loops = null;
  }
  made.set(memory, loops);
  return loops;
}

/**
 * The loops and the value count for a lab kernel whose loop takes whole groups of 4 floats (reluGradient.ts,
 * momentumUpdate.ts); throws, naming the kernel, where the loops cannot be made or the count does not divide.
 */
export function loopsInGroupsOfFour(
  kernel: string,
  backend: BackendWasm,
  shape: number[],
): { loops: WasmLoops; size: number } {
  const loops = wasmLoops(backend);
  if (loops == null) throw new Error(`${kernel}: the lab's wasm loops cannot be made here`);
  const size = util.sizeFromShape(shape);
  if (size % 4 !== 0) throw new Error(`${kernel}: ${size} values are not whole groups of 4`);
  return { loops, size };
}

/** The byte address of a tensor's data on the wasm heap. */
export function heapAddress(backend: BackendWasm, dataId: object): number {
  const data = backend.dataIdMap.get(dataId);
  if (data == null) throw new Error('wasmLoops: the tensor has no data on the wasm heap');
  return data.memoryOffset;
}
