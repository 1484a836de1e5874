/**
 * The lab's wasm loops on every core (docs/design.md §5, "The loop team"). On a page with wasm threads tfjs's
 * XNNPACK pool has every core, but the lab's own loops (wasmLoops.ts), which now do most of a training step, run
 * on the calling thread alone: a second thread made VGG-Fast's step 0.97x as long. A team is the calling thread
 * plus helper Workers, each with its own instance of the loop module on the same shared memory. The caller
 * splits a loop's work into parts that write disjoint outputs, posts all parts but its own to the helpers through
 * a shared control block (Atomics, no messages), runs its own part, and waits for theirs. Each output is summed
 * in the same order as on one thread, so the results are equal bit for bit (e2e/loopTeam.spec.ts).
 *
 * A helper spins for a short while after each part (the parts of a step come in bursts), then sleeps in
 * Atomics.wait. The team is as wide as tfjs's pool is now (wasmPool.ts narrows it while the teacher has a core
 * of its own), so it never takes a core the pool has given away.
 */
import type { WasmLoops } from './wasmLoops';

/** What a helper runs for a task kind: a part described by its integer arguments. */
// Int32: addresses past 2 GiB read negative, which wasm's i32 parameters take as the same bits.
export type TeamTask = (loops: WasmLoops, args: Int32Array) => void;

/** Int32 words per helper in the control block: state, task kind, arguments. */
const SLOT_WORDS = 32;
const MAX_TASK_ARGS = SLOT_WORDS - 2;

/** A helper slot's states (0, as the block starts, is idle). */
const POSTED = 1,
  DONE = 2,
  FAILED = 3,
  STOP = 4;

/**
 * How long a helper spins after a part before it sleeps, and how long the caller spins before it sleeps. A
 * helper's spin takes a core from tfjs's own pool threads: on 2 cores, 2 ms made VGG-Fast's step 117 ms against
 * 99-101 with 0 to 0.3 ms (docs/benchmarks.md, seventh session).
 */
const HELPER_SPIN_MS = 0.05;
const CALLER_SPIN_MS = 1;
/** A part not done by then means a helper is gone: the team stops and the step fails with that message. */
const PART_TIMEOUT_MS = 20_000;

/** The shared block a team and its helpers talk through; the first `helpers` slots. */
export const teamControl = (helpers: number) => new SharedArrayBuffer(4 * SLOT_WORDS * helpers);

export class LoopTeam {
  private readonly words: Int32Array;
  private broken: string | null = null;
  /** Parts each helper has run: tests tell by it that the helpers took work. */
  readonly partsRun: number[];

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
    this.partsRun = new Array<number>(helpers).fill(0);
  }

  /** How many parts work of this size should be split into now: 1 (the caller alone) up to 1 + helpers. */
  parts(): number {
    if (this.broken != null) return 1;
    return Math.max(1, Math.min(this.helpers + 1, this.width()));
  }

  /**
   * Runs `own` on this thread while helper i runs task `kind` with `helperParts[i]`; returns when all are done.
   * The parts must write disjoint memory.
   */
  run(kind: number, helperParts: readonly (readonly number[])[], own: () => void): void {
    if (this.broken != null) throw new Error(this.broken);
    if (helperParts.length > this.helpers)
      throw new Error(`LoopTeam: ${helperParts.length} parts for ${this.helpers} helpers`);
    helperParts.forEach((args, i) => {
      if (args.length > MAX_TASK_ARGS) throw new Error(`LoopTeam: ${args.length} arguments for a part`);
      const at = i * SLOT_WORDS;
      this.words[at + 1] = kind;
      args.forEach((value, j) => {
        this.words[at + 2 + j] = value;
      });
      Atomics.store(this.words, at, POSTED);
      Atomics.notify(this.words, at);
    });
    try {
      own();
    } finally {
      helperParts.forEach((_, i) => this.wait(i));
    }
  }

  private wait(helper: number): void {
    const at = helper * SLOT_WORDS;
    const started = performance.now();
    while (Atomics.load(this.words, at) === POSTED && performance.now() < started + CALLER_SPIN_MS);
    for (let left = PART_TIMEOUT_MS; Atomics.load(this.words, at) === POSTED && left > 0;) {
      Atomics.wait(this.words, at, POSTED, left);
      left = started + PART_TIMEOUT_MS - performance.now();
    }
    const state = Atomics.load(this.words, at);
    if (state === DONE) {
      this.partsRun[helper]!++;
      partsRun++;
      return;
    }
    this.broken =
      state === POSTED
        ? `the wasm loop helper ${helper + 1} did not finish its part in ${PART_TIMEOUT_MS / 1000} s`
        : `the wasm loop helper ${helper + 1} failed on its part (its console has the error)`;
    this.close();
    throw new Error(this.broken);
  }

  /** Stops the helpers (they return from serveTeam); the team then runs everything on the calling thread. */
  close(): void {
    this.broken ??= 'the wasm loop team is closed';
    for (let i = 0; i < this.helpers; i++) {
      Atomics.store(this.words, i * SLOT_WORDS, STOP);
      Atomics.notify(this.words, i * SLOT_WORDS);
    }
    this.onClose();
  }
}

/**
 * A helper's side: runs the parts posted to slot `index` until the team stops. Blocks its thread (a helper Worker
 * does nothing else).
 */
export function serveTeam(
  control: SharedArrayBuffer,
  index: number,
  loops: WasmLoops,
  tasks: readonly TeamTask[],
): void {
  const words = new Int32Array(control);
  const at = index * SLOT_WORDS;
  const args = new Int32Array(control, 4 * (at + 2), MAX_TASK_ARGS);
  for (;;) {
    let state = Atomics.load(words, at);
    const spinUntil = performance.now() + HELPER_SPIN_MS;
    while (state !== POSTED) {
      if (state === STOP) return;
      if (performance.now() >= spinUntil) Atomics.wait(words, at, state);
      state = Atomics.load(words, at);
    }
    let outcome = DONE;
    try {
      const task = tasks[words[at + 1]!];
      if (task == null) throw new Error(`no task of kind ${words[at + 1]}`);
      task(loops, args);
    } catch (error) {
      console.error('wasm loop helper:', error);
      outcome = FAILED;
    }
    Atomics.store(words, at, outcome);
    Atomics.notify(words, at);
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

export const callTask: TeamTask = (loops, args) => {
  const loop = loops[LOOP_NAMES[args[0]!]!] as unknown as (...values: number[]) => void;
  // A wasm export's length is its parameter count.
  const arity = loop.length;
  const first = Array.from(args.subarray(2, 2 + arity));
  const steps = args.subarray(2 + arity, 2 + 2 * arity);
  for (let call = 0; call < args[1]!; call++)
    loop(...first.map((value, i) => value + call * (steps[i] ?? 0)));
};

/**
 * Loops touching fewer floats than this stay on the calling thread: a part handed to a helper costs a few
 * microseconds of posting and waking.
 */
export const MIN_TEAM_FLOATS = 1 << 15;

const call = (loops: WasmLoops, name: SplitLoopName) =>
  loops[name] as unknown as (...values: number[]) => void;

/** Splits [0, count) into the team's parts and runs part(from, to) for each, the first on this thread. */
function splitItems(
  loops: WasmLoops,
  count: number,
  floats: number,
  helperPart: (from: number, to: number) => number[],
  ownPart: (from: number, to: number) => void,
): void {
  const team = floats >= MIN_TEAM_FLOATS ? teamFor(loops) : undefined;
  const parts = Math.min(count, team?.parts() ?? 1);
  if (team == null || parts <= 1) {
    ownPart(0, count);
    return;
  }
  const bound = (i: number) => Math.floor((i * count) / parts);
  const helperParts = Array.from({ length: parts - 1 }, (_, i) => helperPart(bound(i + 1), bound(i + 2)));
  team.run(CALL_TASK, helperParts, () => ownPart(0, bound(1)));
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
  splitItems(
    loops,
    count,
    floats,
    (from, to) => [index, 1, ...args(from, to)],
    (from, to) => call(loops, name)(...args(from, to)),
  );
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
  splitItems(
    loops,
    calls,
    floats,
    (from, to) => [index, to - from, ...at(from), ...steps],
    (from, to) => {
      for (let i = from; i < to; i++) call(loops, name)(...at(i));
    },
  );
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
