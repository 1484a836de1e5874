/// <reference lib="webworker" />
/**
 * The teacher's Worker, started by the training Worker (teacherHost.ts): runs the frozen teacher's pass on the
 * next batch while the student trains on this one (engine/distill/teacherAhead.ts). One wasm thread: the
 * training Worker's threads have the other cores.
 */
import '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import { initBackend } from '../engine/backend/initBackend';
import { type TeacherRunner, teacherRunner } from '../engine/distill/teacherAhead';
import { wasmPaths } from './wasmFiles';

const ready = initBackend('wasm', { wasmPaths, wasmThreads: 1 }).then((report) => {
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

Comlink.expose(api);
