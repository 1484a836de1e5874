/**
 * The loop team (wasmTeam.ts) with real helper threads on a real shared memory: every split loop gives the same
 * bits as one call on one thread, the helpers take parts only while the pool is wide, and a failing helper stops
 * the team with a message that says so. e2e/loopTeam.spec.ts runs the same team in the browser, under training.
 */
import { Worker } from 'node:worker_threads';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { values } from './kernelTestData';
import { loopsOnMemory, type WasmLoops } from './wasmLoops';
import { innerBlock, longProduct, longProductBatch, splitProduct } from './wasmLongProduct';
import { floatBits } from './wasmMomentum';
import { guidedRanges, type LoopTeam, MAX_PARTS, splitCalls, splitLoop, teamFor } from './wasmTeam';
import { type LoopHelperWorker, startLoopTeam } from './wasmTeamStart';

/** A Node worker thread as the Worker startLoopTeam expects. */
function helperThread(): LoopHelperWorker {
  const thread = new Worker(new URL('./wasmTeam.thread.mjs', import.meta.url));
  return {
    postMessage: (message) => thread.postMessage(message),
    addEventListener: (type: 'message' | 'error', listener: (event: never) => void) =>
      type === 'message'
        ? thread.on('message', (data) => (listener as (e: { data: unknown }) => void)({ data }))
        : thread.on('error', (error) => (listener as (e: { message?: string }) => void)(error)),
    terminate: () => void thread.terminate(),
  };
}

describe('guidedRanges', () => {
  it.each([
    { count: 64, threads: 2, min: 1 },
    { count: 1000, threads: 2, min: 3.5 },
    { count: 7, threads: 4, min: 1 },
    { count: 100_000, threads: 8, min: 1 },
  ])('cuts $count items for $threads threads: in order, large first, none under $min but the last', (c) => {
    const ranges = guidedRanges(c.count, c.threads, c.min);
    expect(ranges[0]![0]).toBe(0);
    expect(ranges.at(-1)![1]).toBe(c.count);
    ranges.forEach(([from, to], i) => {
      if (i > 0) expect(from).toBe(ranges[i - 1]![1]);
      if (i > 0) expect(to - from).toBeLessThanOrEqual(ranges[i - 1]![1] - ranges[i - 1]![0]);
      if (i < ranges.length - 1) expect(to - from).toBeGreaterThanOrEqual(c.min);
    });
    expect(ranges.length).toBeLessThanOrEqual(MAX_PARTS);
  });

  it('takes a 2 threads-th of what is left at first, and one part where the least is everything', () => {
    expect(guidedRanges(64, 2, 1).slice(0, 3)).toEqual([
      [0, 16],
      [16, 28],
      [28, 37],
    ]);
    expect(guidedRanges(10, 2, 10)).toEqual([[0, 10]]);
  });
});

describe('splitProduct', () => {
  it('splits a product by runs of pairs of rows, large first, covering every row once', () => {
    for (const [rows, minRows] of [
      [64, 2],
      [101, 2],
      [4096, 40],
    ] as const) {
      const parts = splitProduct(rows, 3, 1, 2, minRows);
      expect(parts.length).toBeGreaterThan(2);
      let next = 0;
      for (const [i, part] of parts.entries()) {
        expect([part.row0, part.panel0, part.panel1]).toEqual([next, 0, 3]);
        if (i < parts.length - 1) expect(part.rows % 2).toBe(0);
        if (i < parts.length - 1) expect(part.rows).toBeGreaterThanOrEqual(minRows);
        next += part.rows;
      }
      expect(next).toBe(rows);
    }
  });

  it('splits a batch of products by runs of whole products where there are enough', () => {
    const parts = splitProduct(4096, 4, 16, 2);
    expect(parts.map((p) => [p.first, p.count])).toEqual(guidedRanges(16, 2, 1).map(([f, t]) => [f, t - f]));
    expect(parts.every((p) => p.row0 === 0 && p.rows === 4096 && p.panel0 === 0 && p.panel1 === 4)).toBe(
      true,
    );
    // Fewer products than two per thread: rows, each part through all of them.
    expect(splitProduct(4096, 4, 3, 2).every((p) => p.first === 0 && p.count === 3)).toBe(true);
  });

  it('splits by panels, one part per thread, where the rows are too few', () => {
    expect(splitProduct(5, 3, 1, 2).map((p) => [p.row0, p.rows, p.panel0, p.panel1])).toEqual([
      [0, 5, 0, 1],
      [0, 5, 1, 3],
    ]);
    expect(splitProduct(6, 4, 1, 4).map((p) => [p.panel0, p.panel1])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(splitProduct(1, 1, 1, 2)).toHaveLength(1);
    expect(splitProduct(64, 4, 16, 1)).toHaveLength(1);
  });
});

/** The team's tests on a shared memory of their own, with `helpers` helper threads. */
function teamSuite(helpers: number): void {
  const PAGE = 1 << 16;
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 512, shared: true });
  let width = helpers + 1;
  /** What startLoopTeam reads of tfjs's module: its memory, and how many threads its pool has now. */
  const backend = {
    wasm: { wasmMemory: memory, tfjs: { getThreadsCount: () => width } },
  } as unknown as BackendWasm;

  /** A bump allocator over the shared memory: byte addresses of float arrays, 64-byte aligned. */
  let next = PAGE;
  function place(data: Float32Array | number): number {
    const length = typeof data === 'number' ? data : data.length;
    const at = next;
    next += Math.ceil((4 * length) / 64) * 64;
    if (next > memory.buffer.byteLength) throw new Error('test memory full');
    if (typeof data !== 'number') new Float32Array(memory.buffer, at, length).set(data);
    return at;
  }
  const read = (at: number, length: number) => new Float32Array(memory.buffer, at, length).slice();

  let loops: WasmLoops;
  let team: LoopTeam;

  /** The bits `run` writes at `out` with the team, and on this thread alone (the pool one thread wide). */
  function bothWays(
    out: number,
    length: number,
    run: () => void,
  ): { team: Float32Array; alone: Float32Array } {
    width = 1;
    new Float32Array(memory.buffer, out, length).fill(NaN);
    const parts = team.partsRun.reduce((sum, n) => sum + n, 0);
    run();
    const alone = read(out, length);
    // A pool one thread wide (the teacher lent a core): no helper takes a part.
    expect(team.partsRun.reduce((sum, n) => sum + n, 0)).toBe(parts);
    width = helpers + 1;
    // Helpers take parts as they wake: one that wakes late may find none, so run until the last helper has
    // taken one (the work went to every thread), every run giving the same bits; on a loaded machine a helper
    // may wait for a core a while.
    const before = team.partsRun[helpers - 1]!;
    for (
      const until = performance.now() + 10_000;
      team.partsRun[helpers - 1] === before && performance.now() < until;
    ) {
      new Float32Array(memory.buffer, out, length).fill(NaN);
      run();
      expect(read(out, length)).toEqual(alone);
    }
    expect(team.partsRun[helpers - 1]).toBeGreaterThan(before);
    return { team: read(out, length), alone };
  }

  describe(`the wasm loop team, ${helpers} helper${helpers === 1 ? '' : 's'}`, () => {
    beforeAll(async () => {
      loops = loopsOnMemory(memory)!;
      expect(loops).not.toBeNull();
      team = (await startLoopTeam(backend, helpers, helperThread))!;
      expect(team).not.toBeNull();
      expect(teamFor(loops)).toBe(team);
    });
    afterAll(() => team?.close());

    it.each([
      { rows: 64, inner: innerBlock(64) * 3 + 5, cols: 64, accumulate: false },
      { rows: 101, inner: 777, cols: 48, accumulate: true },
      { rows: 1024, inner: 32, cols: 32, accumulate: false },
    ])('a product split $rows x $inner x $cols equals it on one thread, bit for bit', (shape) => {
      const { rows, inner, cols, accumulate } = shape;
      const a = place(values(rows * inner, 1));
      const b = place(values(inner * cols, 2));
      const c = place(rows * cols);
      const start = values(rows * cols, 3);
      const { team: split, alone } = bothWays(c, rows * cols, () => {
        if (accumulate) new Float32Array(memory.buffer, c, rows * cols).set(start);
        longProduct(loops, a, b, c, rows, inner, cols, 4 * inner, accumulate);
      });
      expect(alone.every(Number.isFinite)).toBe(true);
      expect(split).toEqual(alone);
    });

    it("a batch of 16 products (Winograd's), split at once, equals them on one thread", () => {
      const [rows, inner, cols] = [256, 48, 32];
      const a = place(values(16 * rows * inner, 11));
      const b = place(values(16 * inner * cols, 12));
      const c = place(16 * rows * cols);
      const steps = [4 * rows * inner, 4 * inner * cols, 4 * rows * cols] as const;
      const jobs = vi.spyOn(team, 'run');
      const { team: split, alone } = bothWays(c, 16 * rows * cols, () =>
        longProductBatch(loops, 16, [a, b, c], steps, rows, inner, cols, 4 * inner, false),
      );
      // All 16 in one job of the team per call: its helpers are woken once.
      expect(jobs.mock.calls.length).toBeGreaterThan(0);
      expect(jobs.mock.calls.every(([, parts]) => parts.length > 1)).toBe(true);
      jobs.mockRestore();
      expect(alone.every(Number.isFinite)).toBe(true);
      expect(split).toEqual(alone);
      // Each is its own product: the last one alone gives the same bits.
      const last = place(rows * cols);
      longProduct(loops, a + 15 * steps[0], b + 15 * steps[1], last, rows, inner, cols, 4 * inner, false);
      expect(read(last, rows * cols)).toEqual(alone.slice(15 * rows * cols));
    });

    it('split loops (BatchNorm affine, max-pool gradient, Winograd input, 16 transposes) equal one call', () => {
      const [rows, channels] = [4096, 32];
      const p = place(values(rows * channels, 4));
      const q = place(values(rows * channels, 5));
      const ab = place(values(3 * channels, 6));
      const out = place(rows * channels);
      const affine = bothWays(out, rows * channels, () =>
        splitLoop(loops, 'channelAffine', rows, 3 * rows * channels, (from, to) => [
          out + 4 * from * channels,
          p + 4 * from * channels,
          q + 4 * from * channels,
          ab,
          ab + 4 * channels,
          ab + 8 * channels,
          to - from,
          channels,
        ]),
      );
      expect(affine.team).toEqual(affine.alone);

      // Max-pool gradient: 32 images of 16x16 x 8 channels, output rows 8 per image.
      const [images, oh, ow, c] = [32, 8, 8, 8];
      const x = place(values(images * 4 * oh * ow * c, 7));
      const dy = place(values(images * oh * ow * c, 8));
      const dx = place(images * 4 * oh * ow * c);
      const pool = bothWays(dx, images * 4 * oh * ow * c, () =>
        splitLoop(loops, 'maxPool2Grad4', images * oh, 5 * images * oh * ow * c, (from, to) => [
          x + 16 * from * ow * c,
          dy + 4 * from * ow * c,
          dx + 16 * from * ow * c,
          to - from,
          ow,
          c,
        ]),
      );
      expect(pool.team).toEqual(pool.alone);

      // Winograd's input transform: padded [images, 2 th + 2, 2 tw + 2, c] into 16 matrices [images th tw, c].
      const [th, tw] = [4, 4];
      const tiles = images * th * tw;
      const xp = place(values(images * (2 * th + 2) * (2 * tw + 2) * c, 9));
      const v = place(16 * tiles * c);
      const input = bothWays(v, 16 * tiles * c, () =>
        splitLoop(loops, 'winogradInput', images, 16 * tiles * c, (from, to) => [
          xp + 4 * from * (2 * th + 2) * (2 * tw + 2) * c,
          v + 4 * from * th * tw * c,
          to - from,
          th,
          tw,
          c,
          4 * tiles * c,
        ]),
      );
      expect(input.team).toEqual(input.alone);

      // The padding before that transform: [images, 2 th, 2 tw, c] into a fresh padded buffer, by images.
      const unpadded = place(values(images * 4 * th * tw * c, 10));
      const paddedFloats = images * (2 * th + 2) * (2 * tw + 2) * c;
      const padded = place(paddedFloats);
      const padding = bothWays(padded, paddedFloats, () =>
        splitLoop(loops, 'padImages', images, 2 * paddedFloats, (from, to) => [
          padded + 4 * from * (2 * th + 2) * (2 * tw + 2) * c,
          unpadded + 16 * from * th * tw * c,
          to - from,
          2 * th,
          2 * tw,
          c,
        ]),
      );
      expect(padding.team).toEqual(padding.alone);
      expect(padding.alone.every(Number.isFinite)).toBe(true);

      // The momentum update (value, slot, gradient in; the new slots, then the new values, side by side), by
      // groups of 4.
      const size = 1 << 14;
      const inputs = [13, 14, 15].map((seed) => place(values(size, seed)));
      const updated = place(2 * size);
      const momentum = bothWays(updated, 2 * size, () =>
        splitLoop(loops, 'momentumUpdate', size / 4, 5 * size, (from, to) => [
          ...[...inputs, updated, updated + 4 * size].map((at) => at + 16 * from),
          16 * (to - from),
          floatBits(0.9),
          floatBits(-0.05),
        ]),
      );
      expect(momentum.team).toEqual(momentum.alone);
      expect(momentum.alone.every(Number.isFinite)).toBe(true);

      // 16 transposes of [tiles, c] matrices, each call's source and target a matrix further on.
      const vt = place(16 * tiles * c);
      const steps = [4 * tiles * c, 4 * tiles * c, 0, 0, 0];
      const transposed = bothWays(vt, 16 * tiles * c, () =>
        splitCalls(loops, 'transpose4', 16, 32 * tiles * c, [v, vt, tiles, c, 1], steps),
      );
      expect(transposed.team).toEqual(transposed.alone);
      expect(transposed.alone[1]).toBe(read(v, 2 * c)[c]);
    });

    it('leaves small work on the calling thread', () => {
      const before = team.partsRun[0]!;
      const [a, b, c] = [place(values(2 * 8, 1)), place(values(8 * 16, 2)), place(2 * 16)];
      longProduct(loops, a, b, c, 2, 8, 16, 32, false);
      expect(team.partsRun[0]).toBe(before);
    });

    it('stops, with a message that names the helper, when a helper fails its part', () => {
      // Parts of a kind no helper knows, each taking the calling thread a while: a helper takes one and fails.
      const slowly = () => {
        const until = performance.now() + 10;
        while (performance.now() < until);
      };
      const parts = Array.from({ length: MAX_PARTS }, () => [0]);
      expect(() => team.run(99, parts, slowly)).toThrow(/loop helper \d failed on its part/);
      expect(team.parts()).toBe(1);
      // The loops still work, on this thread alone.
      const [a, b, c] = [place(values(64 * 64, 1)), place(values(64 * 64, 2)), place(64 * 64)];
      longProduct(loops, a, b, c, 64, 64, 64, 4 * 64, false);
      expect(read(c, 64 * 64).every(Number.isFinite)).toBe(true);
    });
  });
}

teamSuite(1);
teamSuite(3);
