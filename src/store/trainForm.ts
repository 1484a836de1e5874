/**
 * The training form: what the user typed, kept as text so that "abc" or "" can be shown and refused with a
 * reason, and its check through the engine's own schema (parseTrainConfig: zod only, no tfjs). Its fields are
 * the rows of the settings table (src/engine/config/training.ts), so a setting added there appears here.
 */
import {
  CONFIG_SETTINGS,
  type ConfigSettingKey,
  ConfigError,
  DEFAULT_TRAIN_CONFIG,
  defaultTrainConfig,
  parseTrainConfig,
  type Setting,
  type TrainConfig,
  trainConfigSchema,
} from '../engine/config/training';
import type { ModelRole } from '../worker/protocol';

/** One field per configuration setting: text for numbers and choices, a flag for switches; plus the preset. */
export type TrainForm = { readonly model: string } & {
  readonly [K in ConfigSettingKey]: TrainConfig[K] extends boolean ? boolean : string;
};

/** The fields typed as numbers. */
export type NumericField = {
  [K in ConfigSettingKey]: TrainConfig[K] extends number ? K : never;
}[ConfigSettingKey];

export function formFromConfig(
  config: Omit<TrainConfig, 'role' | 'model' | 'logEvery'> & { model: string },
): TrainForm {
  const fields = CONFIG_SETTINGS.map(({ key }) => {
    const value = config[key];
    return [key, typeof value === 'boolean' ? value : String(value)];
  });
  return { model: config.model, ...Object.fromEntries(fields) } as TrainForm;
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

/** A field's value as the schema takes it: a number from typed text, a choice's id, a switch's flag. */
export const settingValue = (setting: Setting, field: string | boolean): unknown =>
  setting.kind === 'number' && typeof field === 'string' ? parseNumber(field) : field;

/** Why one field is refused (the engine's reason), or null. */
export function settingProblem(key: ConfigSettingKey, field: string | boolean): string | null {
  const setting = CONFIG_SETTINGS.find((s) => s.key === key)!;
  const result = trainConfigSchema.shape[key].safeParse(settingValue(setting, field));
  return result.success ? null : [...new Set(result.error.issues.map((i) => i.message))].join('; ');
}

/** The form as settings, or every reason it is refused (the Worker applies the same check again). */
export function checkForm(form: TrainForm, role: ModelRole): FormCheck {
  try {
    const fields = CONFIG_SETTINGS.map((setting) => [setting.key, settingValue(setting, form[setting.key])]);
    const config = parseTrainConfig({
      role,
      model: form.model,
      ...Object.fromEntries(fields),
      // The Worker sets the read-back interval for its backend.
      logEvery: DEFAULT_TRAIN_CONFIG.logEvery,
    });
    return { config, error: null };
  } catch (error) {
    if (error instanceof ConfigError) return { config: null, error: error.message };
    throw error;
  }
}
