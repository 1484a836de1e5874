/**
 * Narrowing wasm's thread pool while a distillation runs its teacher on a thread of its own (docs/design.md §5,
 * "The teacher ahead"). On a page with wasm threads the student's kernels take every core, so a teacher Worker
 * beside them found no free core: on 2 cores cnn-small's KD step was slower that way (108 ms against 101 in line).
 * With one thread fewer in the student's pool, the teacher's Worker gets that core.
 *
 * tfjs sizes its XNNPACK pool once (init_with_threads_count, a pointer in its C++ globals that every kernel
 * reads) and has no call to resize it. Calling init_with_threads_count again builds a second pool and points
 * the global at it; the lab finds that global's address once, by which word of the module's memory changed
 * from the old pool's address to the new one's (checked: get_threads_count follows it both ways), and from then
 * on switches between the two pools by writing that word. Where any of this does not hold (another tfjs build),
 * narrowing reports null, a pool as wide as the first takes over, and the caller keeps the teacher in line.
 * Tested in the browser (e2e/teacherAhead.spec.ts): the same losses narrowed and not, the pool wide again after.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmMemory } from './wasmLoops';

interface PoolSwitch {
  /** Index of the pointer's word in the memory, as Int32Array. */
  readonly address: number;
  readonly wide: number;
  readonly narrow: number;
  readonly narrowThreads: number;
  /** Narrowings not yet given back. */
  lent: number;
}

/** tfjs's threaded build pre-starts 8 pthread Workers; pools past them would need new Workers to start mid-call. */
const PTHREAD_WORKERS = 8;

/**
 * How much of the memory is searched for the pool pointer: tfjs's C++ globals lie in its first tens of KiB (the
 * pointer at byte 23,564 in tfjs 4.22's threaded build), far below the first MiB.
 */
const SCANNED_WORDS = (1 << 20) / 4;

/** Per module memory: its switch once found, null where it cannot be (the search runs once). */
const switches = new WeakMap<WebAssembly.Memory, PoolSwitch | null>();

/**
 * The word holding tfjs's pool pointer, found by building a pool of `threads` threads: among the words that
 * changed, the one whose old value makes get_threads_count read the old count and its new value the new count,
 * both values pointers (aligned, inside memory). Exactly one such word, or null, with a pool as wide as the
 * first in use again.
 */
function findSwitch(wasm: BackendWasm, memory: WebAssembly.Memory, threads: number): PoolSwitch | null {
  const { tfjs } = wasm.wasm;
  const wideThreads = tfjs.getThreadsCount();
  const before = new Int32Array(memory.buffer).slice(0, SCANNED_WORDS);
  tfjs.initWithThreadsCount(threads);
  const after = new Int32Array(memory.buffer);
  const narrowThreads = tfjs.getThreadsCount();
  const pointer = (v: number) => v > 0 && v % 16 === 0 && v < after.byteLength;
  const candidates: PoolSwitch[] = [];
  for (let i = 0; narrowThreads === threads && i < Math.min(before.length, after.length); i++) {
    const old = before[i]!;
    const now = after[i]!;
    if (old === now || !pointer(old) || !pointer(now)) continue;
    after[i] = old;
    const readsOld = tfjs.getThreadsCount() === wideThreads;
    after[i] = now;
    if (readsOld && tfjs.getThreadsCount() === narrowThreads) {
      candidates.push({ address: i, wide: old, narrow: now, narrowThreads, lent: 0 });
    }
  }
  if (candidates.length === 1) return candidates[0]!;
  // Which word is the pointer is unknown: a third pool, as wide as the first, takes the global over again.
  tfjs.initWithThreadsCount(wideThreads);
  console.warn(
    `wasm's thread pool cannot be narrowed here (${candidates.length} candidate pool pointers; ` +
      `${tfjs.getThreadsCount()} of ${wideThreads} threads in use again)`,
  );
  return null;
}

/**
 * Runs wasm's kernels on `threads` threads, fewer than the pool's, until the returned function is called; null
 * where the pool cannot be narrowed (single-threaded, too many threads for tfjs's Workers, not found, or already
 * narrowed to another count). Calls nest: the pool widens again when the last one gives back.
 */
export function narrowWasmPool(wasm: BackendWasm, threads: number): (() => void) | null {
  const memory = wasmMemory(wasm);
  if (memory == null) return null;
  if (!switches.has(memory)) {
    const wide = wasm.wasm.tfjs.getThreadsCount();
    // The narrow pool starts threads - 1 Workers beside the wide one's wide - 1.
    if (threads < 1 || threads >= wide || wide - 1 + threads - 1 > PTHREAD_WORKERS) return null;
    switches.set(memory, findSwitch(wasm, memory, threads));
  }
  const pool = switches.get(memory);
  if (pool == null || pool.narrowThreads !== threads) return null;
  const word = () => new Int32Array(memory.buffer);
  if (pool.lent++ === 0) word()[pool.address] = pool.narrow;
  let returned = false;
  return () => {
    if (returned) return;
    returned = true;
    if (--pool.lent === 0) word()[pool.address] = pool.wide;
  };
}

/** Threads wasm's kernels run on now (the pool's, or the narrowed one's). */
export function wasmPoolThreads(wasm: BackendWasm): number {
  return wasm.wasm.tfjs.getThreadsCount();
}
