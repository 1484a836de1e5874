/**
 * The teacher's worker thread for Node hosts (teacherThread.ts): the frozen teacher's pass on the next batch
 * while the student trains on this one (engine/distill/teacherAhead.ts), on wasm like the CLI's own thread.
 */
import { parentPort } from 'node:worker_threads';
import '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { outputBuffers, type TeacherRunner, wasmTeacherRunner } from '../engine/distill/teacherAhead';

if (!parentPort) throw new Error('teacherThread.worker.ts runs as a worker thread, not on its own');
const runner = wasmTeacherRunner();

const api: TeacherRunner = {
  load: (artifacts, outputs) => runner.load(artifacts, outputs),
  async run(images, shape) {
    const outputs = await runner.run(images, shape);
    return Comlink.transfer(outputs, outputBuffers(outputs));
  },
};

Comlink.expose(api, nodeEndpoint(parentPort));
