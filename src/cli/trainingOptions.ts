/** The training options `train` and `distill` share: one declaration for parseArgs, one mapping to settings. */
import { defaultTrainConfig, parseTrainConfig, type TrainConfig } from '../engine/training/hyperparams';

export const TRAINING_OPTIONS = {
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  schedule: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'no-augment': { type: 'boolean' },
  'log-every': { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
} as const;

export interface TrainingOptions {
  epochs?: string;
  batch?: string;
  lr?: string;
  optimizer?: string;
  schedule?: string;
  momentum?: string;
  'weight-decay'?: string;
  'no-augment'?: boolean;
  'log-every'?: string;
  seed?: string;
  set?: string;
  out?: string;
  backend?: string;
}

const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));
const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The preset's defaults (the same the lab's form starts from), then `base`, then what the command line gives;
 * validated (ConfigError names every problem).
 */
export function trainConfigFrom(options: TrainingOptions, base: Partial<TrainConfig>): TrainConfig {
  return parseTrainConfig({
    ...defaultTrainConfig(base.model ?? ''),
    ...base,
    ...defined({
      epochs: num(options.epochs),
      batchSize: num(options.batch),
      learningRate: num(options.lr),
      optimizer: options.optimizer,
      schedule: options.schedule,
      momentum: num(options.momentum),
      weightDecay: num(options['weight-decay']),
      seed: num(options.seed),
      logEvery: num(options['log-every']),
      augment: options['no-augment'] ? false : undefined,
    }),
  });
}

/** One JSON object per line on stdout: the CLI's machine-readable output. */
export const jsonLine = (record: object) => process.stdout.write(`${JSON.stringify(record)}\n`);
