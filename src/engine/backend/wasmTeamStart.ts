/**
 * Starting the loop team (wasmTeam.ts) beside a threaded wasm backend, and a helper Worker's side of it. The
 * host makes the Workers (src/worker/loopHelper.worker.ts in the browser), so the engine stays free of the DOM;
 * Node's wasm backend is single-threaded (wasmThreads.ts), so the CLI has no team.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loopModule, loopsOnMemory, wasmLoops, wasmMemory } from './wasmLoops';
import { PRODUCT_TASK, productParts } from './wasmLongProduct';
import { attachTeam, CALL_TASK, callTask, LoopTeam, serveTeam, type TeamTask, teamControl } from './wasmTeam';

/** What the lab needs of a helper Worker (a browser Worker has it). */
export interface LoopHelperWorker {
  postMessage(message: LoopHelperStart): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (event: { readonly message?: string }) => void): void;
  terminate(): void;
}

export type LoopHelperFactory = () => LoopHelperWorker;

/**
 * The one message a helper gets: the backend's memory, the lab's loop module compiled (so the helper neither
 * compiles it again nor starts on baseline code), the team's control block, its slot.
 */
export interface LoopHelperStart {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly control: SharedArrayBuffer;
  readonly index: number;
}

/**
 * `count` helper Workers spawned now, handed out by the returned factory before any new one: a Worker loads its
 * script while the backend is still starting (under the dev server its module graph took ~0.4 s, on the path
 * to Start), and queues the start message until then. `release` ends those never handed out.
 */
export function prespawnedHelpers(
  count: number,
  spawn: LoopHelperFactory,
): { spawn: LoopHelperFactory; release: () => void } {
  const spare = Array.from({ length: count }, () => spawn());
  return {
    spawn: () => spare.shift() ?? spawn(),
    release: () => spare.splice(0).forEach((worker) => worker.terminate()),
  };
}

/** What a helper answers when it is ready to serve; anything else is why it cannot. */
const HELPER_READY = 'ready';

/** The tasks a helper runs, by kind. */
const TEAM_TASKS: TeamTask[] = [];
TEAM_TASKS[PRODUCT_TASK] = productParts;
TEAM_TASKS[CALL_TASK] = callTask;

/** Helpers that have not answered by then are given up on: the loops stay on one thread. */
const START_TIMEOUT_MS = 15_000;

const teams = new WeakMap<WebAssembly.Memory, Promise<LoopTeam | null>>();

/**
 * Starts `helpers` helper Workers on the backend's memory (once per memory) and splits the lab's loops over them
 * from then on; null where there is no shared memory or a helper does not start (then with a warning).
 */
export function startLoopTeam(
  wasm: BackendWasm,
  helpers: number,
  spawn: LoopHelperFactory,
): Promise<LoopTeam | null> {
  const memory = wasmMemory(wasm);
  const loops = wasmLoops(wasm);
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory?.buffer instanceof SharedArrayBuffer;
  if (memory == null || loops == null || !shared || helpers < 1) return Promise.resolve(null);
  const running = teams.get(memory);
  if (running) return running;
  const control = teamControl(helpers);
  const workers: LoopHelperWorker[] = [];
  const stopAll = () => workers.forEach((worker) => worker.terminate());
  const ready = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const worker = spawn();
      workers.push(worker);
      worker.addEventListener('message', ({ data }) =>
        data === HELPER_READY ? resolve() : reject(new Error(String(data))),
      );
      worker.addEventListener('error', (event) =>
        reject(new Error(event.message ?? 'its script failed to load')),
      );
      worker.postMessage({ memory, module: loopModule(true), control, index });
    });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer in ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
  });
  const team = Promise.race([Promise.all(Array.from({ length: helpers }, (_, i) => ready(i))), timeout])
    .then(() => {
      const started = new LoopTeam(control, helpers, () => wasm.wasm.tfjs.getThreadsCount(), stopAll);
      attachTeam(loops, started);
      return started;
    })
    .catch((error: unknown) => {
      stopAll();
      console.warn(
        `the lab's wasm loops stay on one thread: a loop helper did not start (${error instanceof Error ? error.message : String(error)})`,
      );
      return null;
    })
    .finally(() => clearTimeout(timer));
  teams.set(memory, team);
  return team;
}

/** A helper Worker's side: its loop module on the shared memory, then the team's parts until it stops. */
export function serveLoopHelper(start: LoopHelperStart, reply: (message: string) => void): void {
  const loops = loopsOnMemory(start.memory, start.module);
  if (loops == null) {
    reply("the lab's loop module cannot be made on this memory");
    return;
  }
  reply(HELPER_READY);
  serveTeam(start.control, start.index, loops, TEAM_TASKS);
}
