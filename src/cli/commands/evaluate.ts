import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { checkArchitecture, CHECKPOINT_FILES, loadModel } from '../../engine/training/checkpoint';
import { evaluateModel } from '../../engine/training/trainer';
import { folderStore } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { UsageError } from '../usage';

export const EVAL_USAGE = `npm run cli -- eval --checkpoint DIR [--set ${PREPARED_SET_IDS.join('|')}] [--backend wasm|cpu|webgpu]
  Top-1 accuracy of a saved model (DIR holds model.json + weights.bin) on the test split, as one JSON line.`;

export async function evalCommand(options: {
  checkpoint?: string;
  set?: string;
  backend?: string;
}): Promise<string> {
  if (!options.checkpoint) throw new UsageError('eval needs --checkpoint DIR');
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const backend = await startNodeBackend(options.backend as never);
  const store = folderStore(options.checkpoint);
  const { model, metadata } = await loadModel(
    await store.read(CHECKPOINT_FILES.model),
    await store.read(CHECKPOINT_FILES.weights),
    `${options.checkpoint}/${CHECKPOINT_FILES.model}`,
  );
  if (metadata) checkArchitecture(model, metadata.preset, `${options.checkpoint}/${CHECKPOINT_FILES.model}`);
  const dataset = await loadPreparedFromDisk(set);
  const started = performance.now();
  const result = await evaluateModel(model, dataset.test);
  return JSON.stringify({
    kind: 'eval',
    checkpoint: options.checkpoint,
    model: metadata?.preset ?? null,
    set,
    split: 'test',
    ...result,
    backend: backend.backend,
    seconds: (performance.now() - started) / 1000,
  });
}
