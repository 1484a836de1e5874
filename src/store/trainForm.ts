/**
 * The training form: what the user typed, kept as text so that "abc" or "" can be shown and refused with a
 * reason, and its check through the engine's own schema (parseTrainConfig: zod only, no tfjs).
 */
import {
  ConfigError,
  DEFAULT_TRAIN_CONFIG,
  defaultTrainConfig,
  parseTrainConfig,
  type TrainConfig,
} from '../engine/training/hyperparams';
import type { ModelRole } from '../worker/protocol';

export interface TrainForm {
  readonly model: string;
  readonly optimizer: string;
  readonly schedule: string;
  readonly learningRate: string;
  readonly momentum: string;
  readonly weightDecay: string;
  readonly epochs: string;
  readonly batchSize: string;
  readonly seed: string;
  readonly augment: boolean;
}

export type NumericField = 'learningRate' | 'momentum' | 'weightDecay' | 'epochs' | 'batchSize' | 'seed';

export function formFromConfig(
  config: Omit<TrainConfig, 'role' | 'model' | 'logEvery'> & { model: string },
): TrainForm {
  return {
    model: config.model,
    optimizer: config.optimizer,
    schedule: config.schedule,
    learningRate: String(config.learningRate),
    momentum: String(config.momentum),
    weightDecay: String(config.weightDecay),
    epochs: String(config.epochs),
    batchSize: String(config.batchSize),
    seed: String(config.seed),
    augment: config.augment,
  };
}

/** The defaults a run of `model` starts from; `model` is empty until the presets arrive from the Worker. */
export const defaultForm = (model = ''): TrainForm => formFromConfig({ ...defaultTrainConfig(model), model });

/**
 * The form after an edit. Choosing another preset moves every field still at the old preset's default to the
 * new preset's (cnn-small's learning rate is not resnet8's); a field the user typed stays as typed.
 */
export function editedForm(form: TrainForm, patch: Partial<TrainForm>): TrainForm {
  const next = { ...form, ...patch };
  if (patch.model === undefined || patch.model === form.model) return next;
  const before = defaultForm(form.model);
  const after = defaultForm(patch.model);
  for (const key of Object.keys(before) as (keyof TrainForm)[]) {
    if (key === 'model' || key in patch || form[key] !== before[key]) continue;
    (next as Record<keyof TrainForm, unknown>)[key] = after[key];
  }
  return next;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A typed number: plain decimals and exponents ("0.05", "5e-4"); anything else (hex, "", "1,5") is NaN. */
export const parseNumber = (text: string): number =>
  DECIMAL.test(text.trim()) ? Number(text.trim()) : Number.NaN;

export type FormCheck =
  { readonly config: TrainConfig; readonly error: null } | { readonly config: null; readonly error: string };

/** The form as settings, or every reason it is refused (the Worker applies the same check again). */
export function checkForm(form: TrainForm, role: ModelRole): FormCheck {
  try {
    const config = parseTrainConfig({
      role,
      model: form.model,
      optimizer: form.optimizer,
      schedule: form.schedule,
      learningRate: parseNumber(form.learningRate),
      momentum: parseNumber(form.momentum),
      weightDecay: parseNumber(form.weightDecay),
      epochs: parseNumber(form.epochs),
      batchSize: parseNumber(form.batchSize),
      seed: parseNumber(form.seed),
      augment: form.augment,
      // The Worker sets the read-back interval for its backend.
      logEvery: DEFAULT_TRAIN_CONFIG.logEvery,
    });
    return { config, error: null };
  } catch (error) {
    if (error instanceof ConfigError) return { config: null, error: error.message };
    throw error;
  }
}
