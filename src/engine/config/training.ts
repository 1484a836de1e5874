/**
 * Training settings, declared once: one row per setting in TRAIN_SETTINGS (as tensorflow/playground's state.ts
 * declares its URL state), from which the zod schema below, the form's controls (src/store/trainForm.ts,
 * src/ui/TrainFormView.tsx), the CLI flags (src/cli/trainingOptions.ts) and the URL keys (src/store/urlConfig.ts)
 * are derived, so the UI, the CLI and the Worker refuse the same bad values with the same reasons. The default
 * values are in DEFAULT_TRAIN_CONFIG and PRESET_TRAIN_DEFAULTS (measured choices: docs/defaults.md).
 */
import { z } from 'zod';
import { formatBound } from './format';

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

/** What every row declares. */
interface SettingRow {
  /** The CLI flag (`--lr`) and the URL key (`?lr=`); a switch's CLI flag is `--no-<flag>`. */
  readonly flag: string;
  /** The form's label. */
  readonly label: string;
  /** How messages name it: "learning rate must be ...". */
  readonly name: string;
  /** A short note beside the label ("SGD only"). */
  readonly hint?: string;
  /** The form greys it out unless the optimizer is this one (momentum: SGD's). */
  readonly onlyWithOptimizer?: (typeof OPTIMIZERS)[number];
  /** Not part of the lab's configuration: no form control, no URL key (the Worker sets it). CLI only. */
  readonly cliOnly?: boolean;
}

export interface NumberSetting extends SettingRow {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
}

export interface ChoiceSetting extends SettingRow {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  /** How the form shows a choice, where not the id itself. */
  readonly choiceLabels?: Readonly<Record<string, string>>;
}

export interface SwitchSetting extends SettingRow {
  readonly kind: 'switch';
}

export type Setting = NumberSetting | ChoiceSetting | SwitchSetting;

const decimal = <const R extends SettingRow>(row: R, min: number, max: number) => ({
  row: { ...row, kind: 'number', min, max, integer: false } satisfies NumberSetting,
  schema: range(row.name, min, max),
});

const whole = <const R extends SettingRow>(row: R, min: number, max: number) => ({
  row: { ...row, kind: 'number', min, max, integer: true } satisfies NumberSetting,
  schema: integer(row.name, min, max),
});

const choice = <const R extends SettingRow, const C extends readonly [string, ...string[]]>(
  row: R,
  choices: C,
  choiceLabels?: Readonly<Record<C[number], string>>,
) => ({
  row: { ...row, kind: 'choice', choices, ...(choiceLabels ? { choiceLabels } : {}) } satisfies ChoiceSetting,
  schema: z.enum(choices, { error: `${row.name} must be one of ${choices.join(', ')}` }),
});

const toggle = <const R extends SettingRow>(row: R) => ({
  row: { ...row, kind: 'switch' } satisfies SwitchSetting,
  schema: z.boolean({ error: `${row.name} must be true or false` }),
});

/**
 * Every training setting, in the order the form shows them and the reasons list them. Adding a setting is a
 * row here and its default in DEFAULT_TRAIN_CONFIG; the form, the CLI and the URL follow.
 */
export const SETTING_ROWS = {
  epochs: whole({ flag: 'epochs', label: 'Epochs', name: 'epochs' }, 1, 1000),
  batchSize: whole({ flag: 'batch', label: 'Batch size', name: 'batch size' }, 1, 1024),
  optimizer: choice({ flag: 'optimizer', label: 'Optimizer', name: 'optimizer' }, OPTIMIZERS, {
    sgd: 'SGD',
    adam: 'Adam',
  }),
  learningRate: decimal({ flag: 'lr', label: 'Learning rate', name: 'learning rate' }, 1e-6, 10),
  momentum: decimal(
    { flag: 'momentum', label: 'Momentum', name: 'momentum', hint: 'SGD only', onlyWithOptimizer: 'sgd' },
    0,
    0.999,
  ),
  weightDecay: decimal({ flag: 'weight-decay', label: 'Weight decay', name: 'weight decay' }, 0, 0.1),
  schedule: choice({ flag: 'schedule', label: 'Schedule', name: 'schedule' }, SCHEDULES),
  seed: whole({ flag: 'seed', label: 'Seed', name: 'seed' }, 0, 2 ** 31 - 1),
  augment: toggle({
    flag: 'augment',
    label: 'Augment (random crop with 4-pixel padding, horizontal flip)',
    name: 'augment',
  }),
  /** Loss values are read back from the GPU every this many steps (one batched read, never one per step). */
  logEvery: whole(
    { flag: 'log-every', label: 'Log interval', name: 'log interval', cliOnly: true },
    1,
    10_000,
  ),
};

type Rows = typeof SETTING_ROWS;
/** A training setting's key in TrainConfig (besides `role` and `model`). */
export type SettingKey = keyof Rows;

/** The settings that make up the lab's configuration (a form control and a URL key each): all but CLI-only ones. */
export type ConfigSettingKey = {
  [K in SettingKey]: Rows[K]['row'] extends { readonly cliOnly: true } ? never : K;
}[SettingKey];

/** The settings table: every row with its key, in order. */
export const TRAIN_SETTINGS: readonly (Setting & { readonly key: SettingKey })[] = (
  Object.keys(SETTING_ROWS) as SettingKey[]
).map((key) => ({ ...SETTING_ROWS[key].row, key }));

/** The rows that make up the lab's configuration (the form's controls and the URL's keys). */
export const CONFIG_SETTINGS = TRAIN_SETTINGS.filter(
  (s): s is Setting & { readonly key: ConfigSettingKey } => !s.cliOnly,
);

const settingSchemas = Object.fromEntries(
  Object.entries(SETTING_ROWS).map(([key, { schema }]) => [key, schema]),
) as {
  [K in SettingKey]: Rows[K]['schema'];
};

export const trainConfigSchema = z.object({
  role: z.enum(['teacher', 'student'], { error: 'role must be one of teacher, student' }),
  model: z.string({ error: 'model must be a preset name' }).min(1, { error: 'model must be a preset name' }),
  ...settingSchemas,
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
