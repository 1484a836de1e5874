/**
 * The browser's TeacherHost: the teacher's Worker (teacher.worker.ts) behind Comlink. A Worker that fails (its
 * script does not load, it runs out of memory) rejects every call still waiting, so the trainer goes on with
 * the teacher in line instead of waiting for an answer that cannot come.
 */
import * as Comlink from 'comlink';
import type { TeacherHost, TeacherRunner } from '../engine/distill/teacherAhead';

export function workerTeacherHost(): TeacherHost {
  const worker = new Worker(new URL('./teacher.worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<TeacherRunner>(worker);
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Nobody may be waiting when it fails; the rejection still must not go unhandled.
  failed.catch(() => undefined);
  worker.addEventListener('error', (event) =>
    fail(new Error(`the teacher's Worker failed: ${event.message}`)),
  );
  worker.addEventListener('messageerror', () =>
    fail(new Error("the teacher's Worker sent an unreadable message")),
  );
  return {
    load: (artifacts, outputs) => Promise.race([remote.load(artifacts, outputs), failed]),
    run: (images, shape) => Promise.race([remote.run(images, shape), failed]),
    close() {
      fail(new Error("the teacher's Worker was closed"));
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
