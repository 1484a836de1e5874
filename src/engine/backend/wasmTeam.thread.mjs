// A loop-team helper as a Node worker thread, for wasmTeam.test.ts: the browser's helpers are Workers
// (src/worker/loopHelper.worker.ts), and Node's wasm backend is single-threaded, so only the tests start these.
// Node 20 does not run `--import tsx` in worker threads, so the thread registers tsx itself.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { serveLoopHelper } = await import('./wasmTeamStart.ts');
parentPort.once('message', (start) => serveLoopHelper(start, (message) => parentPort.postMessage(message)));
