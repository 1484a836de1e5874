/**
 * The training options `train` and `distill` share, derived from the settings table
 * (src/engine/config/training.ts): `--<flag> value` per setting, `--no-<flag>` for a switch; one declaration
 * for parseArgs, one mapping to settings.
 */
import {
  defaultTrainConfig,
  parseTrainConfig,
  type Setting,
  type SETTING_ROWS,
  type SettingKey,
  TRAIN_SETTINGS,
  type TrainConfig,
} from '../engine/config/training';

type Rows = typeof SETTING_ROWS;
/** A setting's CLI option name: its flag, or `no-<flag>` for a switch (on by default). */
type OptionName<K extends SettingKey> = Rows[K]['row'] extends { readonly kind: 'switch' }
  ? `no-${Rows[K]['row']['flag']}`
  : Rows[K]['row']['flag'];

const optionName = (setting: Setting): string =>
  setting.kind === 'switch' ? `no-${setting.flag}` : setting.flag;

const SETTING_OPTIONS = Object.fromEntries(
  TRAIN_SETTINGS.map((setting) => [
    optionName(setting),
    { type: setting.kind === 'switch' ? 'boolean' : 'string' },
  ]),
) as {
  readonly [K in SettingKey as OptionName<K>]: {
    readonly type: Rows[K]['row'] extends { readonly kind: 'switch' } ? 'boolean' : 'string';
  };
};

export const TRAINING_OPTIONS = {
  ...SETTING_OPTIONS,
  set: { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
} as const;

export type TrainingOptions = {
  [K in keyof typeof TRAINING_OPTIONS]?: (typeof TRAINING_OPTIONS)[K]['type'] extends 'boolean'
    ? boolean
    : string;
};

/** Wraps usage items into lines of at most `width` characters, continued with a 4-space indent. */
const wrapUsage = (items: readonly string[], width = 108): string =>
  items
    .reduce<string[]>((lines, item) => {
      const last = lines.at(-1);
      if (last !== undefined && last.length + 1 + item.length <= width)
        lines[lines.length - 1] = `${last} ${item}`;
      else lines.push(item);
      return lines;
    }, [])
    .join('\n    ');

/**
 * "[--epochs N] [--batch N] [--optimizer sgd|adam] ... [--no-augment]": the settings' flags for a usage text,
 * from the table (wrapped; continuation lines indented 4 spaces).
 */
export const SETTING_FLAGS_USAGE = wrapUsage(
  TRAIN_SETTINGS.map((setting) =>
    setting.kind === 'switch'
      ? `[--no-${setting.flag}]`
      : setting.kind === 'choice'
        ? `[--${setting.flag} ${setting.choices.join('|')}]`
        : `[--${setting.flag} ${setting.integer ? 'N' : 'X'}]`,
  ),
);

/** A flag's value as the schema takes it (a number stays a number even when mistyped: the schema names it). */
function optionValue(setting: Setting, options: TrainingOptions): unknown {
  const given = (options as Readonly<Record<string, string | boolean | undefined>>)[optionName(setting)];
  if (given === undefined) return undefined;
  if (setting.kind === 'switch') return given === true ? false : undefined;
  return setting.kind === 'number' ? Number(given) : given;
}

/**
 * The preset's defaults (the same the lab's form starts from), then `base`, then what the command line gives;
 * validated (ConfigError names every problem).
 */
export function trainConfigFrom(options: TrainingOptions, base: Partial<TrainConfig>): TrainConfig {
  const given = TRAIN_SETTINGS.flatMap((setting) => {
    const value = optionValue(setting, options);
    return value === undefined ? [] : [[setting.key, value] as const];
  });
  return parseTrainConfig({
    ...defaultTrainConfig(base.model ?? ''),
    ...base,
    ...Object.fromEntries(given),
  });
}

/** One JSON object per line on stdout: the CLI's machine-readable output. */
export const jsonLine = (record: object) => process.stdout.write(`${JSON.stringify(record)}\n`);
