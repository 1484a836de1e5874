/**
 * Node's TeacherHost: a worker thread (teacherThread.worker.ts) behind Comlink, for the CLI's distillations on
 * wasm, which Node runs single-threaded (engine/distill/teacherAhead.ts). The thread registers tsx itself
 * (teacherThread.boot.mjs) and loads the TypeScript sources as the CLI does. A thread that fails or exits
 * rejects every call still waiting, so the run goes on with the teacher in line.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { TeacherHost, TeacherHostFactory, TeacherRunner } from '../engine/distill/teacherAhead';

function threadTeacherHost(): TeacherHost {
  const worker = new Worker(new URL('./teacherThread.boot.mjs', import.meta.url));
  // The run must not wait on this thread to end the process.
  worker.unref();
  const remote = Comlink.wrap<TeacherRunner>(nodeEndpoint(worker));
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  worker.on('error', (error) => fail(new Error(`the teacher's thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new Error(`the teacher's thread exited (code ${code})`)));
  return {
    load: (artifacts, outputs) => Promise.race([remote.load(artifacts, outputs), failed]),
    run: (images, shape) => Promise.race([remote.run(images, shape), failed]),
    close() {
      fail(new Error("the teacher's thread was closed"));
      remote[Comlink.releaseProxy]();
      void worker.terminate();
    },
  };
}

/** The CLI's teacher host where a second core is free for it; none on one core. */
export const nodeTeacherHost = (): TeacherHostFactory | undefined =>
  availableParallelism() >= 2 ? threadTeacherHost : undefined;
