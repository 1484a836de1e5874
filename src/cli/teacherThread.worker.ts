/**
 * The teacher's worker thread for Node hosts (teacherThread.ts): the frozen teacher's pass on the next batch
 * while the student trains on this one (engine/distill/teacherAhead.ts), on wasm like the CLI's own thread.
 */
import { parentPort } from 'node:worker_threads';
import '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { initBackend } from '../engine/backend/initBackend';
import { type TeacherRunner, teacherRunner } from '../engine/distill/teacherAhead';

if (!parentPort) throw new Error('teacherThread.worker.ts runs as a worker thread, not on its own');
const ready = initBackend('wasm').then((report) => {
  if (report.backend !== 'wasm') throw new Error(`wasm did not start here (${report.backend} did instead)`);
});
const runner = teacherRunner();

const api: TeacherRunner = {
  async load(artifacts, outputs) {
    await ready;
    return runner.load(artifacts, outputs);
  },
  async run(images, shape) {
    const outputs = await runner.run(images, shape);
    return Comlink.transfer(
      outputs,
      outputs.map((o) => o.values.buffer),
    );
  },
};

Comlink.expose(api, nodeEndpoint(parentPort));
