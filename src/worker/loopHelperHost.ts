/** The browser's loop helpers (loopHelper.worker.ts): Workers the training Worker starts on a threaded page. */
import type { LoopHelperWorker } from '../engine/backend/wasmTeamStart';

export const loopHelperWorker = (): LoopHelperWorker =>
  new Worker(new URL('./loopHelper.worker.ts', import.meta.url), { type: 'module' });
