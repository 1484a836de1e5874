/**
 * Training settings, declared once with their ranges (zod), so the UI, the CLI and the Worker refuse the same
 * bad values with the same reasons.
 */
import { z } from 'zod';

/** Plain decimals with thousands separators (0.000001, 10, 2,147,483,647), never exponent notation. */
const formatBound = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 20 });

/** Every refusal names the field and its range, so a typo (NaN, "abc", Infinity) reads as well as -1 does. */
const range = (name: string, min: number, max: number) => {
  const bounds = `between ${formatBound(min)} and ${formatBound(max)}`;
  return z
    .number({ error: `${name} must be a number ${bounds}` })
    .refine(Number.isFinite, { message: `${name} must be a finite number ${bounds}` })
    .refine((v) => v >= min && v <= max, { message: `${name} must be ${bounds}` });
};

const integer = (name: string, min: number, max: number) =>
  // Only in range, so -0.5 gets one reason, not two.
  range(name, min, max).refine((v) => !(v >= min && v <= max) || Number.isInteger(v), {
    message: `${name} must be a whole number between ${formatBound(min)} and ${formatBound(max)}`,
  });

export const OPTIMIZERS = ['sgd', 'adam'] as const;
export const SCHEDULES = ['cosine', 'step', 'onecycle', 'constant'] as const;

export const trainConfigSchema = z.object({
  role: z.enum(['teacher', 'student'], { error: 'role must be one of teacher, student' }),
  model: z.string({ error: 'model must be a preset name' }).min(1, { error: 'model must be a preset name' }),
  epochs: integer('epochs', 1, 1000),
  batchSize: integer('batch size', 1, 1024),
  optimizer: z.enum(OPTIMIZERS, { error: `optimizer must be one of ${OPTIMIZERS.join(', ')}` }),
  learningRate: range('learning rate', 1e-6, 10),
  momentum: range('momentum', 0, 0.999),
  weightDecay: range('weight decay', 0, 0.1),
  schedule: z.enum(SCHEDULES, { error: `schedule must be one of ${SCHEDULES.join(', ')}` }),
  seed: integer('seed', 0, 2 ** 31 - 1),
  augment: z.boolean({ error: 'augment must be true or false' }),
  /** Loss values are read back from the GPU every this many steps (one batched read, never one per step). */
  logEvery: integer('log interval', 1, 10_000),
});

export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** The settings every preset starts from, before its own departures below. */
export const DEFAULT_TRAIN_CONFIG: Omit<TrainConfig, 'role' | 'model'> = {
  epochs: 10,
  batchSize: 64,
  optimizer: 'sgd',
  learningRate: 0.05,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: 'onecycle',
  seed: 1,
  augment: true,
  logEvery: 10,
};

type PresetDefaults = Partial<Omit<TrainConfig, 'role' | 'model' | 'logEvery'>>;

/**
 * Where a preset's defaults depart from DEFAULT_TRAIN_CONFIG, chosen by measurement so that a first visit sees
 * distillation work (docs/defaults.md, `npm run check:defaults`). The students train 3 epochs, a first run in
 * a minute or two. cnn-small has no BatchNorm: at 0.05 it cannot take KD's T²-scaled soft gradient and
 * collapses to chance (measured in this lab, and in PyTorch with the same recipe); at 0.02 KD and PKT beat
 * the CE baseline (at 0.01 PKT ended just under it). The UI form, the CLI and the tests all read these
 * through `defaultTrainConfig`.
 */
export const PRESET_TRAIN_DEFAULTS: Readonly<Record<string, PresetDefaults>> = {
  'cnn-small': { epochs: 3, learningRate: 0.02 },
  resnet8: { epochs: 3 },
};

/** The defaults for a preset (an unknown or empty name gets the shared ones). */
export const defaultTrainConfig = (model: string): Omit<TrainConfig, 'role' | 'model'> => ({
  ...DEFAULT_TRAIN_CONFIG,
  ...PRESET_TRAIN_DEFAULTS[model],
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates settings; throws ConfigError listing every problem (e.g. "learning rate must be between ..."). */
export function parseTrainConfig(input: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.');
    return issue.message.includes(' must ') ? issue.message : `${field}: ${issue.message}`;
  });
  throw new ConfigError([...new Set(problems)].join('; '));
}
