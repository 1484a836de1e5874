/// <reference lib="webworker" />
/**
 * A helper of the lab's wasm loop team (engine/backend/wasmTeam.ts), started by the training Worker on a page
 * with wasm threads: it runs parts of the lab's loops on tfjs's shared memory. One message starts it; from then
 * on it takes its parts through Atomics and never returns to its event loop.
 */
import { type LoopHelperStart, serveLoopHelper } from '../engine/backend/wasmTeamStart';

self.addEventListener(
  'message',
  (event: MessageEvent<LoopHelperStart>) =>
    serveLoopHelper(event.data, (message) => self.postMessage(message)),
  { once: true },
);
