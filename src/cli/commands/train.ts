import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { findPreset, flopsPerImage, MODEL_PRESETS } from '../../engine/models/presets';
import { loadCheckpoint, saveCheckpoint } from '../../engine/training/checkpoint';
import type { TrainConfig } from '../../engine/training/hyperparams';
import {
  createOptimizer,
  crossEntropyLoss,
  initialTrainerState,
  Trainer,
} from '../../engine/training/trainer';
import { folderStore } from '../checkpointDir';
import { loadPreparedFromDisk } from '../dataFiles';
import { startNodeBackend } from '../nodeBackend';
import { jsonLine, type TrainingOptions, trainConfigFrom } from '../trainingOptions';
import { UsageError } from '../usage';

export const TRAIN_USAGE = `npm run cli -- train --role teacher|student --model PRESET [--epochs N] [--batch B] [--lr X]
    [--optimizer sgd|adam] [--schedule ${'cosine|step|onecycle|constant'}] [--momentum M] [--weight-decay W]
    [--no-augment] [--seed S] [--set ${PREPARED_SET_IDS.join('|')}] [--out DIR] [--resume DIR] [--backend wasm|cpu|webgpu]
  Trains a model; prints one JSON line per logged step and per epoch; saves a checkpoint (tfjs model format)
  in DIR at every epoch end, and on Ctrl-C before exiting. --resume continues a checkpoint (--epochs may extend it).
  Presets: ${MODEL_PRESETS.map((p) => `${p.id} (${p.role})`).join(', ')}`;

export interface TrainOptions extends TrainingOptions {
  role?: string;
  model?: string;
  resume?: string;
}

function configFrom(options: TrainOptions, base: Partial<TrainConfig>): TrainConfig {
  return trainConfigFrom(options, {
    ...base,
    ...(options.role ? { role: options.role as TrainConfig['role'] } : {}),
    ...(options.model ? { model: options.model } : {}),
  });
}

const line = jsonLine;

export async function trainCommand(options: TrainOptions): Promise<number> {
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set)) throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}`);
  const backend = await startNodeBackend(options.backend as BackendName | undefined);
  let model: tf.LayersModel;
  let config: TrainConfig;
  let optimizer: tf.Optimizer;
  let state = initialTrainerState();
  if (options.resume) {
    const loaded = await loadCheckpoint(folderStore(options.resume));
    config = configFrom({ epochs: options.epochs }, loaded.run.config);
    model = loaded.model;
    state = loaded.run.state;
    optimizer = createOptimizer(config);
    await optimizer.setWeights(loaded.optimizerSlots);
  } else {
    if (!options.role || !options.model)
      throw new UsageError('train needs --role and --model (or --resume DIR)');
    config = configFrom(options, {});
    const preset = findPreset(config.model);
    if (preset.role !== config.role) {
      throw new UsageError(`preset ${preset.id} is a ${preset.role} model, not a ${config.role}`);
    }
    model = preset.build(config.seed);
    optimizer = createOptimizer(config);
  }
  const out =
    options.out ?? options.resume ?? `checkpoints/${config.role}-${config.model}-seed${config.seed}`;
  const dataset = await loadPreparedFromDisk(set);
  const trainer = new Trainer(
    model,
    config,
    dataset,
    optimizer,
    crossEntropyLoss(model, config.weightDecay),
    state,
  );
  line({
    kind: 'start',
    backend: backend.backend,
    adapter: backend.adapter,
    set,
    trainSize: dataset.train.count,
    testSize: dataset.test.count,
    parameters: model.countParams(),
    flopsPerImage: flopsPerImage(model),
    resumedFromEpoch: state.epoch,
    resumedFromStep: state.stepInEpoch,
    out,
    config,
  });
  const store = folderStore(out);
  const save = () => saveCheckpoint(store, model, optimizer, { config, state: trainer.state });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const outcome = await trainer.run({
    onStep: line,
    onEpoch: async (log) => {
      line(log);
      await save();
    },
    shouldStop: () => interrupted,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (outcome.kind === 'stopped') {
    await save();
    line({
      kind: 'stopped',
      epoch: trainer.state.epoch,
      stepInEpoch: trainer.state.stepInEpoch,
      checkpoint: out,
    });
    return 130;
  }
  if (outcome.kind === 'nan') {
    line({
      ...outcome,
      kind: 'error',
      message: `loss term "${outcome.term}" is not finite at epoch ${outcome.epoch}, step ${outcome.step}; training stopped, the last good checkpoint (end of epoch ${trainer.state.epochs.length}) stays in ${out}`,
    });
    return 1;
  }
  line({ kind: 'done', epochs: trainer.state.epoch, checkpoint: out, numTensors: tf.memory().numTensors });
  return 0;
}
