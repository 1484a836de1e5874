/** Line colours and names of the runs of this visit, shared by the accuracy overlay and the runs table. */
import { type DistillRunRecord, isBaseline } from '../store/distillState';

const RUN_COLOURS = ['#2d6cdf', '#c0392b', '#1f9d55', '#7a3fb8', '#d9822b', '#16a2b8', '#8a6d3b', '#e83e8c'];
export const runColour = (id: number) => RUN_COLOURS[(id - 1) % RUN_COLOURS.length]!;
export const runName = (run: DistillRunRecord) =>
  `#${run.id} ${run.method}${isBaseline(run) ? ' (baseline)' : ''}`;
