// The teacher's worker thread starts here: Node 20 does not run `--import tsx` in worker threads, so the
// thread registers tsx itself before loading its TypeScript (teacherThread.ts).
import { register } from 'tsx/esm/api';

register();
await import('./teacherThread.worker.ts');
