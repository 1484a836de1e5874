import { create } from 'zustand';
import { type DistillState, initialDistillState, liveRun } from './distillState';
import { isActive } from './trainingState';

export const useDistillStore = create<DistillState>(() => initialDistillState());

/** A distillation is under way (starting, running, pausing, stopping): nothing else may train. */
export const distillActive = (state: DistillState): boolean => {
  const run = liveRun(state);
  return run !== null && isActive(run.status);
};
