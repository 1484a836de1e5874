/**
 * A run's checkpoint, whatever the run trains: the model in the tfjs format with the optimizer's slots and the
 * trainer's position and curves (training/checkpoint.ts), the method's own state (method.json + method.bin,
 * distill/methodCheckpoint.ts) and the lab's context (lab.json: dataset, time). All files go to the store in
 * one write, which the stores swap in whole, so a save cut short keeps the previous checkpoint.
 * See docs/design.md §9 (runs).
 */
import type * as tf from '@tensorflow/tfjs';
import {
  decodeMethodCheckpoint,
  encodeMethodCheckpoint,
  METHOD_FILES,
  type MethodCheckpointInfo,
} from '../distill/methodCheckpoint';
import type { MethodState } from '../distill/method';
import { BASELINE_METHOD } from '../config/methods';
import { type CheckpointStore, type LoadedRun, loadCheckpoint, saveCheckpoint } from '../training/checkpoint';
import type { TrainConfig } from '../training/hyperparams';
import { RUN_CONTEXT_FILE, type RunContext } from '../training/savedRuns';
import type { TrainerState } from '../training/trainer';

export interface RunSnapshot {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly config: TrainConfig;
  readonly state: TrainerState;
  readonly method: MethodCheckpointInfo;
  readonly methodState: MethodState;
  readonly context: Omit<RunContext, 'savedAt'>;
}

/** Writes a whole checkpoint (model, optimizer, position, method state, context) in one store write. */
export async function saveRunCheckpoint(store: CheckpointStore, snapshot: RunSnapshot): Promise<void> {
  const { json, bin } = encodeMethodCheckpoint(snapshot.method, snapshot.methodState);
  const context: RunContext = { ...snapshot.context, savedAt: new Date().toISOString() };
  const withLabFiles: CheckpointStore = {
    ...store,
    write: (files) =>
      store.write({
        ...files,
        [METHOD_FILES.json]: json,
        [METHOD_FILES.bin]: bin,
        [RUN_CONTEXT_FILE]: JSON.stringify(context),
      }),
  };
  await saveCheckpoint(withLabFiles, snapshot.model, snapshot.optimizer, {
    config: snapshot.config,
    state: snapshot.state,
  });
}

export interface LoadedRunCheckpoint extends LoadedRun {
  readonly method: MethodCheckpointInfo;
  readonly methodState: MethodState;
  /** Null for a checkpoint written outside the lab (the CLI before it wrote lab.json). */
  readonly context: RunContext | null;
}

const decoder = new TextDecoder();

/** Reads a file the store may not have: null when absent. */
async function readOptional(store: CheckpointStore, name: string): Promise<Uint8Array | null> {
  try {
    return await store.read(name);
  } catch {
    return null;
  }
}

/**
 * Reads a whole checkpoint back. One without method files (a plain training run saved before runs were one
 * pipeline) is a `ce` run on every label.
 */
export async function loadRunCheckpoint(store: CheckpointStore): Promise<LoadedRunCheckpoint> {
  const [methodJson, methodBin, contextFile] = await Promise.all([
    readOptional(store, METHOD_FILES.json),
    readOptional(store, METHOD_FILES.bin),
    readOptional(store, RUN_CONTEXT_FILE),
  ]);
  const loaded = await loadCheckpoint(store);
  try {
    const decoded =
      methodJson && methodBin
        ? decodeMethodCheckpoint(methodJson, methodBin)
        : {
            checkpoint: { method: BASELINE_METHOD, params: {}, labelledFraction: 1, teacher: null },
            state: {},
          };
    const { method, params, labelledFraction, teacher } = decoded.checkpoint;
    return {
      ...loaded,
      method: { method, params, labelledFraction, teacher },
      methodState: decoded.state,
      context: contextFile ? (JSON.parse(decoder.decode(contextFile)) as RunContext) : null,
    };
  } catch (error) {
    loaded.model.dispose();
    for (const { tensor } of loaded.optimizerSlots) tensor.dispose();
    throw error;
  }
}
