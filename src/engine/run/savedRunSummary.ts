/**
 * A saved run as the resume offer describes it, read from its slot's small files (state.json, lab.json,
 * method.json) without loading the model. See docs/design.md §9.
 */
import { BASELINE_METHOD } from '../config/methods';
import { METHOD_FILES } from '../distill/methodCheckpoint';
import { findMethod } from '../distill/registry';
import type { SavedRunSummary } from '../sessionTypes';
import { CHECKPOINT_FILES, type RunState } from '../training/checkpoint';
import { RUN_CONTEXT_FILE, type RunContext, type RunSlot } from '../training/savedRuns';
import type { RunLane } from './runTypes';

/** The lane's saved run; null when its slot holds none. */
export async function readSavedRun(slot: RunSlot, lane: RunLane): Promise<SavedRunSummary | null> {
  if (!(await slot.exists())) return null;
  const read = async (name: string) => JSON.parse(new TextDecoder().decode(await slot.read(name))) as unknown;
  const run = (await read(CHECKPOINT_FILES.state)) as RunState;
  const context = (await read(RUN_CONTEXT_FILE)) as RunContext;
  const method = await slot
    .read(METHOD_FILES.json)
    .then((bytes) => (JSON.parse(new TextDecoder().decode(bytes)) as { method: string }).method)
    .catch(() => BASELINE_METHOD);
  const last = run.state.epochs[run.state.epochs.length - 1];
  return {
    lane,
    method,
    methodLabel: findMethod(method).label,
    preset: run.config.model,
    datasetId: context.datasetId,
    datasetName: context.datasetName,
    savedAt: context.savedAt,
    completedEpochs: run.state.epoch,
    stepInEpoch: run.state.stepInEpoch,
    epochs: run.config.epochs,
    testAccuracy: last?.testAccuracy ?? null,
  };
}
