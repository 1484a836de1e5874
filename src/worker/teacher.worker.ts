/// <reference lib="webworker" />
/**
 * The teacher's Worker, started by the training Worker (teacherHost.ts): runs the frozen teacher's pass on the
 * next batch while the student trains on this one (engine/distill/teacherAhead.ts). One wasm thread: it runs
 * only beside a single-threaded student, on the core that leaves free.
 */
import '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import { outputBuffers, type TeacherRunner, wasmTeacherRunner } from '../engine/distill/teacherAhead';
import { wasmPaths } from './wasmFiles';

const runner = wasmTeacherRunner({ wasmPaths, wasmThreads: 1 });

const api: TeacherRunner = {
  load: (artifacts, outputs) => runner.load(artifacts, outputs),
  async run(images, shape) {
    const outputs = await runner.run(images, shape);
    return Comlink.transfer(outputs, outputBuffers(outputs));
  },
};

Comlink.expose(api);
