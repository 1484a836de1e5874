/**
 * Node's TeacherHost: a worker thread (teacherThread.worker.ts) behind Comlink, for the CLI's distillations on
 * wasm, which Node runs single-threaded (engine/distill/teacherAhead.ts). The thread registers tsx itself
 * (teacherThread.boot.mjs) and loads the TypeScript sources as the CLI does. A thread that fails or exits
 * fails every call still waiting (teacherAhead.ts hostOver).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import {
  hostOver,
  type TeacherHost,
  type TeacherHostFactory,
  type TeacherRunner,
} from '../engine/distill/teacherAhead';

function threadTeacherHost(): TeacherHost {
  // Kept referenced (Comlink's message listener would re-reference it anyway): a run waiting on the thread
  // must keep the process alive, and close(), called by every run's dispose, ends it.
  const worker = new Worker(new URL('./teacherThread.boot.mjs', import.meta.url));
  const remote = Comlink.wrap<TeacherRunner>(nodeEndpoint(worker));
  const { host, fail } = hostOver(
    {
      load: (artifacts, outputs) => remote.load(artifacts, outputs),
      run: (images, shape) => remote.run(images, shape),
    },
    () => {
      remote[Comlink.releaseProxy]();
      void worker.terminate();
    },
  );
  worker.on('error', (error) => fail(new Error(`the teacher's thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new Error(`the teacher's thread exited (code ${code})`)));
  return host;
}

/** The CLI's teacher host where a second core is free for it; none on one core. */
export const nodeTeacherHost = (): TeacherHostFactory | undefined =>
  availableParallelism() >= 2 ? threadTeacherHost : undefined;
