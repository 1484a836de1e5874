import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { findPreset, MODEL_PRESETS } from '../../engine/models/presets';
import { LabRun } from '../../engine/run/labRun';
import type { TrainConfig } from '../../engine/training/hyperparams';
import { logEveryFor } from '../../engine/run/runTypes';
import { folderSlot } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { limitStepsOf, runToEnd, startLine, wholeNumber } from '../runLoop';
import { SETTING_FLAGS_USAGE, type TrainingOptions, trainConfigFrom } from '../trainingOptions';
import { UsageError } from '../usage';

export const TRAIN_USAGE = `npm run cli -- train --role teacher|student --model PRESET
    ${SETTING_FLAGS_USAGE}
    [--set ${PREPARED_SET_IDS.join('|')}] [--out DIR] [--resume DIR] [--backend wasm|cpu|webgpu] [--limit-steps N]
  Trains a model on the labels; prints one JSON line per logged step and per epoch; saves a checkpoint (tfjs
  model format) in DIR at every epoch end, every 30 s of training, and on Ctrl-C or SIGTERM (within one step;
  then exit 130; a second Ctrl-C quits at once). --resume DIR continues a checkpoint exactly where it stood
  (--epochs may extend it). --limit-steps N: end after N steps, with a checkpoint and the test accuracy.
  Presets: ${MODEL_PRESETS.map((p) => `${p.id} (${p.role})`).join(', ')}`;

export interface TrainOptions extends TrainingOptions {
  role?: string;
  model?: string;
  resume?: string;
  'limit-steps'?: string;
}

function configFrom(options: TrainOptions, base: Partial<TrainConfig>): TrainConfig {
  return trainConfigFrom(options, {
    ...base,
    ...(options.role ? { role: options.role as TrainConfig['role'] } : {}),
    ...(options.model ? { model: options.model } : {}),
  });
}

/** A run on the labels alone: the `ce` method (one pipeline with distillation, src/engine/run/). */
export async function trainCommand(options: TrainOptions): Promise<number> {
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  let config: TrainConfig | null = null;
  if (!options.resume) {
    if (!options.role || !options.model)
      throw new UsageError('train needs --role and --model (or --resume DIR)');
    config = configFrom(options, {});
    const preset = findPreset(config.model);
    if (preset.role !== config.role) {
      throw new UsageError(`preset ${preset.id} is a ${preset.role} model, not a ${config.role}`);
    }
  }
  const backend = await startNodeBackend(options.backend as BackendName | undefined);
  const dataset = await loadPreparedFromDisk(set);
  const logEvery = logEveryFor(backend.backend);
  const run = config
    ? await LabRun.start(
        { method: 'ce', params: {}, labelledFraction: 1, train: { ...config, logEvery } },
        dataset,
        null,
        folderSlot(options.out ?? `checkpoints/${config.role}-${config.model}-seed${config.seed}`),
      )
    : await LabRun.restore(folderSlot(options.resume!), dataset, null, {
        logEvery,
        epochs: options.epochs === undefined ? undefined : wholeNumber(options.epochs, '--epochs'),
      });
  const out =
    options.out ??
    options.resume ??
    `checkpoints/${run.config.role}-${run.config.model}-seed${run.config.seed}`;
  try {
    startLine(run, { backend, set, dataset, out });
    return await runToEnd(run, dataset, { out, limitSteps: limitStepsOf(options['limit-steps']) });
  } finally {
    run.dispose();
  }
}
