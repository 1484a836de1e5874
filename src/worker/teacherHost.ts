/**
 * The browser's TeacherHost: the teacher's Worker (teacher.worker.ts) behind Comlink. A Worker that fails (its
 * script does not load, it runs out of memory) fails every call still waiting (teacherAhead.ts hostOver).
 */
import * as Comlink from 'comlink';
import { hostOver, type TeacherHost, type TeacherRunner } from '../engine/distill/teacherAhead';

export function workerTeacherHost(): TeacherHost {
  const worker = new Worker(new URL('./teacher.worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<TeacherRunner>(worker);
  const { host, fail } = hostOver(
    {
      load: (artifacts, outputs) => remote.load(artifacts, outputs),
      run: (images, shape) => remote.run(images, shape),
    },
    () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  );
  worker.addEventListener('error', (event) =>
    fail(new Error(`the teacher's Worker failed: ${event.message}`)),
  );
  worker.addEventListener('messageerror', () =>
    fail(new Error("the teacher's Worker sent an unreadable message")),
  );
  return host;
}
