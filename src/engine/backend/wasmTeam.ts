/**
 * The lab's wasm loops on every core (docs/design.md §5, "The loop team"). On a page with wasm threads tfjs's
 * XNNPACK pool has every core, but the lab's own loops (wasmLoops.ts), which now do most of a training step, run
 * on the calling thread alone: a second thread made VGG-Fast's step 0.97x as long. A team is the calling thread
 * plus helper Workers, each with its own instance of the loop module on the same shared memory. The caller
 * splits a loop's work into parts that write disjoint outputs, large first and small last, posts them as a job in
 * a shared control block (Atomics, no messages), and takes parts in turn with the helpers it woke, so that a
 * helper that wakes late or runs slower takes fewer; then it waits for the parts the helpers took. Each output is
 * summed in the same order as on one thread, whoever runs it, so the results are equal bit for bit
 * (e2e/loopTeam.spec.ts).
 *
 * A helper spins for a short while after each job (the jobs of a step come in bursts), then sleeps in
 * Atomics.wait. The team is as wide as tfjs's pool is now (wasmPool.ts narrows it while the teacher has a core
 * of its own), so it never takes a core the pool has given away.
 */
import type { WasmLoops } from './wasmLoops';

/** What a helper runs for a task kind: a part described by its integer arguments. */
// Int32: addresses past 2 GiB read negative, which wasm's i32 parameters take as the same bits.
export type TeamTask = (loops: WasmLoops, args: Int32Array) => void;

/** Int32 words per part's arguments in the control block. */
const MAX_TASK_ARGS = 32;
/** The most parts one split may have (a claim word holds the part index and count in 8 bits each). */
export const MAX_PARTS = 64;

/**
 * The control block's words: the job's generation (helpers wait on it), the claim word (generation << 16 |
 * next part << 8 | parts), parts finished by helpers, the helper that failed (1-based), the job's task kind,
 * the stop flag; then each helper's count of parts run; then the parts' arguments.
 */
const GENERATION = 0,
  CLAIM = 1,
  FINISHED = 2,
  FAILED = 3,
  KIND = 4,
  STOP = 5,
  PARTS_RUN = 8;
const argsAt = (helpers: number, part: number) => PARTS_RUN + helpers + part * MAX_TASK_ARGS;

/**
 * How long a helper spins after a job before it sleeps, and how long the caller spins before it sleeps. A
 * helper's spin takes a core from tfjs's own pool threads: on 2 cores, 2 ms made VGG-Fast's step 117 ms against
 * 99-101 with 0 to 0.3 ms (docs/benchmarks.md, seventh session).
 */
const HELPER_SPIN_MS = 0.05;
const CALLER_SPIN_MS = 1;
/** A part not done by then means a helper is gone: the team stops and the step fails with that message. */
const PART_TIMEOUT_MS = 20_000;

/** The shared block a team and its helpers talk through. */
export const teamControl = (helpers: number) => new SharedArrayBuffer(4 * argsAt(helpers, MAX_PARTS));

/**
 * Claims the next part of job `generation` for this thread: its index, or -1 when every part is taken or the
 * job is no longer the current one (a helper that woke late). The index and the part count live in the same
 * word as the generation, so a thread never takes a part of a job it did not see posted.
 */
function claimPart(words: Int32Array, generation: number): number {
  for (;;) {
    const word = Atomics.load(words, CLAIM);
    const next = (word >>> 8) & 0xff;
    if (word >>> 16 !== generation || next >= (word & 0xff)) return -1;
    if (Atomics.compareExchange(words, CLAIM, word, word + 0x100) === word) return next;
  }
}

export class LoopTeam {
  private readonly words: Int32Array;
  private broken: string | null = null;
  private generation = 0;

  /**
   * `width` says how many threads the team may use now (tfjs's pool width); the team uses at most
   * 1 + `helpers` of them.
   */
  constructor(
    control: SharedArrayBuffer,
    readonly helpers: number,
    private readonly width: () => number,
    private readonly onClose: () => void = () => undefined,
  ) {
    this.words = new Int32Array(control);
  }

  /** Parts each helper has run: tests tell by it that the helpers took work. */
  get partsRun(): number[] {
    return Array.from({ length: this.helpers }, (_, i) => Atomics.load(this.words, PARTS_RUN + i));
  }

  /** How many threads work of this size may be split over now: 1 (the caller alone) up to 1 + helpers. */
  parts(): number {
    if (this.broken != null) return 1;
    return Math.max(1, Math.min(this.helpers + 1, this.width()));
  }

  /**
   * Runs task `kind` on each of `parts` (their arguments), this thread and the helpers taking parts in turn
   * until none is left (a helper that wakes late takes fewer); returns when all are done. `runPart` runs a part
   * on this thread, as the helpers' task does. The parts must write disjoint memory.
   */
  run(kind: number, parts: readonly (readonly number[])[], runPart: (args: readonly number[]) => void): void {
    if (this.broken != null) throw new Error(this.broken);
    if (parts.length > MAX_PARTS) throw new Error(`LoopTeam: ${parts.length} parts, at most ${MAX_PARTS}`);
    const words = this.words;
    parts.forEach((args, i) => {
      if (args.length > MAX_TASK_ARGS) throw new Error(`LoopTeam: ${args.length} arguments for a part`);
      words.set(args, argsAt(this.helpers, i));
    });
    words[KIND] = kind;
    Atomics.store(words, FINISHED, 0);
    Atomics.store(words, FAILED, 0);
    // Generations 1..0xffff: 0 in the claim word means no job.
    const generation = (this.generation = (this.generation % 0xffff) + 1);
    Atomics.store(words, CLAIM, (generation << 16) | parts.length);
    Atomics.store(words, GENERATION, generation);
    Atomics.notify(words, GENERATION);
    let mine = 0;
    let claimed = parts.length;
    try {
      for (let part: number; (part = claimPart(words, generation)) >= 0; mine++) runPart(parts[part]!);
    } catch (error) {
      // No part more for anyone; wait for those the helpers took, then fail.
      claimed = (Atomics.exchange(words, CLAIM, 0) >>> 8) & 0xff;
      this.waitForHelpers(claimed - mine - 1);
      throw error;
    }
    this.waitForHelpers(claimed - mine);
    partsRun += claimed - mine;
  }

  /** Waits until the helpers have finished `parts` parts of the current job. */
  private waitForHelpers(parts: number): void {
    const words = this.words;
    const started = performance.now();
    while (Atomics.load(words, FINISHED) < parts && performance.now() < started + CALLER_SPIN_MS);
    for (let left = PART_TIMEOUT_MS, done; (done = Atomics.load(words, FINISHED)) < parts && left > 0;) {
      Atomics.wait(words, FINISHED, done, left);
      left = started + PART_TIMEOUT_MS - performance.now();
    }
    const failed = Atomics.load(words, FAILED);
    if (failed === 0 && Atomics.load(words, FINISHED) >= parts) return;
    this.broken =
      failed === 0
        ? `a wasm loop helper did not finish its part in ${PART_TIMEOUT_MS / 1000} s`
        : `the wasm loop helper ${failed} failed on its part (its console has the error)`;
    this.close();
    throw new Error(this.broken);
  }

  /** Stops the helpers (they return from serveTeam); the team then runs everything on the calling thread. */
  close(): void {
    this.broken ??= 'the wasm loop team is closed';
    Atomics.store(this.words, STOP, 1);
    Atomics.add(this.words, GENERATION, 1);
    Atomics.notify(this.words, GENERATION);
    this.onClose();
  }
}

/**
 * A helper's side: takes parts of each job posted to the team until the team stops. Blocks its thread (a helper
 * Worker does nothing else).
 */
export function serveTeam(
  control: SharedArrayBuffer,
  index: number,
  loops: WasmLoops,
  tasks: readonly TeamTask[],
): void {
  const words = new Int32Array(control);
  const helpers = (words.length - argsAt(0, MAX_PARTS)) | 0;
  const partArgs = Array.from(
    { length: MAX_PARTS },
    (_, part) => new Int32Array(control, 4 * argsAt(helpers, part), MAX_TASK_ARGS),
  );
  let served = Atomics.load(words, GENERATION);
  for (;;) {
    let generation = Atomics.load(words, GENERATION);
    const spinUntil = performance.now() + HELPER_SPIN_MS;
    while (generation === served) {
      if (performance.now() >= spinUntil) Atomics.wait(words, GENERATION, served);
      generation = Atomics.load(words, GENERATION);
    }
    if (Atomics.load(words, STOP) !== 0) return;
    served = generation;
    for (let part: number; (part = claimPart(words, generation)) >= 0;) {
      try {
        const task = tasks[words[KIND]!];
        if (task == null) throw new Error(`no task of kind ${words[KIND]}`);
        task(loops, partArgs[part]!);
        Atomics.add(words, PARTS_RUN + index, 1);
      } catch (error) {
        console.error('wasm loop helper:', error);
        Atomics.store(words, FAILED, index + 1);
      }
      Atomics.add(words, FINISHED, 1);
      Atomics.notify(words, FINISHED);
    }
  }
}

/** The loops a helper can be asked to call (CALL_TASK), by index. */
export const LOOP_NAMES = [
  'channelAffine',
  'channelSums',
  'gatherRuns',
  'im2colRows',
  'maxPool2Grad4',
  'momentumUpdate',
  'padImages',
  'reluGrad',
  'transpose4',
  'winogradGradTiles',
  'winogradInput',
  'winogradOutput',
] as const satisfies readonly (keyof WasmLoops)[];
export type SplitLoopName = (typeof LOOP_NAMES)[number];

/**
 * The team's task kind for calls of a loop: its index in LOOP_NAMES, how many calls, the first call's arguments,
 * then (for more than one call) what each argument adds from one call to the next.
 */
export const CALL_TASK = 1;

export const callTask = (loops: WasmLoops, args: Int32Array | readonly number[]): void => {
  const loop = loops[LOOP_NAMES[args[0]!]!] as unknown as (...values: number[]) => void;
  // A wasm export's length is its parameter count.
  const arity = loop.length;
  const first = Array.from(args.slice(2, 2 + arity));
  const steps = args.slice(2 + arity, 2 + 2 * arity);
  for (let call = 0; call < args[1]!; call++)
    loop(...first.map((value, i) => value + call * (steps[i] ?? 0)));
};

/**
 * Loops touching fewer floats than this stay on the calling thread: a part handed to a helper costs a few
 * microseconds of posting and waking.
 */
export const MIN_TEAM_FLOATS = 1 << 15;

/**
 * Ranges [from, to) over [0, count) for `threads` threads that take them in turn: each a 2 `threads`-th of
 * what is left, none under `minItems` (the last may be), so the first are large and the last small, and a
 * thread that wakes late or runs slower only takes fewer: whichever finishes last waits for a small part at
 * most. At most MAX_PARTS ranges.
 */
export function guidedRanges(count: number, threads: number, minItems: number): [number, number][] {
  for (let least = Math.max(1, Math.ceil(minItems)); ; least *= 2) {
    const ranges: [number, number][] = [];
    for (let from = 0; from < count;) {
      const size = Math.min(count - from, Math.max(least, Math.ceil((count - from) / (2 * threads))));
      ranges.push([from, from + size]);
      from += size;
    }
    if (ranges.length <= MAX_PARTS) return ranges;
  }
}

/** A part's least work for a split loop: a part costs about a microsecond to take. */
const MIN_PART_FLOATS = MIN_TEAM_FLOATS / 4;

/** Splits [0, count) into the team's parts (guidedRanges) and runs part(from, to) for each. */
function splitItems(
  loops: WasmLoops,
  count: number,
  floats: number,
  part: (from: number, to: number) => number[],
): void {
  const team = floats >= MIN_TEAM_FLOATS ? teamFor(loops) : undefined;
  const threads = team?.parts() ?? 1;
  const ranges = threads > 1 ? guidedRanges(count, threads, (MIN_PART_FLOATS * count) / floats) : [];
  if (team == null || ranges.length <= 1) callTask(loops, part(0, count));
  else
    team.run(
      CALL_TASK,
      ranges.map(([from, to]) => part(from, to)),
      (args) => callTask(loops, args),
    );
}

/**
 * Calls loop `name` once over items [0, count) (images, rows), split among the team where there is one and the
 * loop touches at least MIN_TEAM_FLOATS floats: `args(from, to)` are the call's arguments for a range of items,
 * whose outputs must not overlap another range's.
 */
export function splitLoop(
  loops: WasmLoops,
  name: SplitLoopName,
  count: number,
  floats: number,
  args: (from: number, to: number) => number[],
): void {
  const index = LOOP_NAMES.indexOf(name);
  splitItems(loops, count, floats, (from, to) => [index, 1, ...args(from, to)]);
}

/**
 * Calls loop `name` `calls` times, call i with `first` + i `steps` (argument by argument), the calls split among
 * the team as splitLoop says; the calls' outputs must not overlap.
 */
export function splitCalls(
  loops: WasmLoops,
  name: SplitLoopName,
  calls: number,
  floats: number,
  first: readonly number[],
  steps: readonly number[],
): void {
  const index = LOOP_NAMES.indexOf(name);
  const at = (i: number) => first.map((value, j) => value + i * steps[j]!);
  splitItems(loops, calls, floats, (from, to) => [index, to - from, ...at(from), ...steps]);
}

/** Per loop module instance: the team that splits its loops, if any. */
const teams = new WeakMap<WasmLoops, LoopTeam>();
let enabled = true;

/** The team of these loops, unless there is none or teams are turned off. */
export const teamFor = (loops: WasmLoops): LoopTeam | undefined => (enabled ? teams.get(loops) : undefined);

/** Turns the teams off (every loop on the calling thread) and on again: for tests and benchmarks. */
export function setLoopTeamEnabled(on: boolean): void {
  enabled = on;
}

let partsRun = 0;

/** Parts the helpers of every team have run so far: tests and benchmarks tell by it that the team worked. */
export const loopTeamParts = () => partsRun;

/** From now on `team` splits these loops (wasmTeamStart.ts, once its helpers are ready). */
export function attachTeam(loops: WasmLoops, team: LoopTeam): void {
  teams.set(loops, team);
}
