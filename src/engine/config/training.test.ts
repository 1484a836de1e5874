import { describe, expect, it } from 'vitest';
import { errorOf } from '../../testing/errorOf';
import {
  CONFIG_SETTINGS,
  ConfigError,
  DEFAULT_TRAIN_CONFIG,
  parseTrainConfig,
  TRAIN_SETTINGS,
  trainConfigSchema,
} from './training';

const VALID = { ...DEFAULT_TRAIN_CONFIG, role: 'student', model: 'cnn-small' } as const;

/** The ConfigError message for the defaults with `patch` applied. */
function problem(patch: Record<string, unknown>): string {
  const error = errorOf(() => parseTrainConfig({ ...VALID, ...patch }));
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.name).toBe('ConfigError');
  return error.message;
}

describe('parseTrainConfig', () => {
  it('accepts the defaults with a role and a model, unchanged', () => {
    expect(parseTrainConfig({ ...VALID })).toEqual(VALID);
    expect(
      parseTrainConfig({ ...VALID, role: 'teacher', model: 'resnet20', optimizer: 'adam' }),
    ).toMatchObject({
      role: 'teacher',
      model: 'resnet20',
      optimizer: 'adam',
    });
  });

  it('accepts the ends of each range', () => {
    const low = { epochs: 1, batchSize: 1, learningRate: 0.000001, momentum: 0, weightDecay: 0, seed: 0 };
    const high = { epochs: 1000, batchSize: 1024, learningRate: 10, momentum: 0.999, weightDecay: 0.1 };
    expect(parseTrainConfig({ ...VALID, ...low })).toMatchObject(low);
    expect(parseTrainConfig({ ...VALID, ...high, seed: 2 ** 31 - 1 })).toMatchObject(high);
  });

  it('refuses out-of-range numbers, naming the field and its range in plain decimals', () => {
    expect(problem({ learningRate: -1 })).toBe('learning rate must be between 0.000001 and 10');
    expect(problem({ learningRate: 0 })).toBe('learning rate must be between 0.000001 and 10');
    expect(problem({ learningRate: 10.5 })).toBe('learning rate must be between 0.000001 and 10');
    expect(problem({ epochs: 0 })).toBe('epochs must be between 1 and 1,000');
    expect(problem({ batchSize: 2048 })).toBe('batch size must be between 1 and 1,024');
    expect(problem({ momentum: 1 })).toBe('momentum must be between 0 and 0.999');
    expect(problem({ weightDecay: 0.5 })).toBe('weight decay must be between 0 and 0.1');
    expect(problem({ seed: -1 })).toBe('seed must be between 0 and 2,147,483,647');
    expect(problem({ logEvery: 0 })).toBe('log interval must be between 1 and 10,000');
  });

  it('refuses NaN, Infinity and strings as numbers, still naming the range', () => {
    expect(problem({ learningRate: Number.NaN })).toBe(
      'learning rate must be a number between 0.000001 and 10',
    );
    expect(problem({ learningRate: Number.POSITIVE_INFINITY })).toBe(
      'learning rate must be a number between 0.000001 and 10',
    );
    expect(problem({ momentum: Number.NEGATIVE_INFINITY })).toBe(
      'momentum must be a number between 0 and 0.999',
    );
    expect(problem({ learningRate: '0.1' })).toBe('learning rate must be a number between 0.000001 and 10');
    expect(problem({ epochs: '10' })).toBe('epochs must be a number between 1 and 1,000');
    expect(problem({ learningRate: undefined })).toBe(
      'learning rate must be a number between 0.000001 and 10',
    );
  });

  it('refuses fractional counts as not whole numbers, with one reason each', () => {
    expect(problem({ batchSize: 32.5 })).toBe('batch size must be a whole number between 1 and 1,024');
    expect(problem({ epochs: 2.5 })).toBe('epochs must be a whole number between 1 and 1,000');
    // Out of range and fractional: the range alone, not both.
    expect(problem({ seed: -0.5 })).toBe('seed must be between 0 and 2,147,483,647');
  });

  it('refuses unknown choices by listing the valid ones', () => {
    expect(problem({ optimizer: 'rmsprop' })).toBe('optimizer must be one of sgd, adam');
    expect(problem({ schedule: 'linear' })).toBe('schedule must be one of cosine, step, onecycle, constant');
    expect(problem({ role: 'both' })).toBe('role must be one of teacher, student');
    expect(problem({ model: '' })).toBe('model must be a preset name');
    expect(problem({ augment: 'yes' })).toBe('augment must be true or false');
  });

  it('lists every problem at once, separated by semicolons, in field order', () => {
    const message = problem({ epochs: 0, batchSize: 2.5, learningRate: -1, optimizer: 'x' });
    expect(message).toBe(
      'epochs must be between 1 and 1,000; batch size must be a whole number between 1 and 1,024; ' +
        'optimizer must be one of sgd, adam; learning rate must be between 0.000001 and 10',
    );
  });
});

describe('the settings table', () => {
  it('derives the schema: role, model, then one key per row, in the table’s order', () => {
    expect(Object.keys(trainConfigSchema.shape)).toEqual([
      'role',
      'model',
      ...TRAIN_SETTINGS.map((s) => s.key),
    ]);
  });

  it('gives every row a default the schema accepts, and distinct flags (the CLI’s and the URL’s names)', () => {
    for (const setting of TRAIN_SETTINGS)
      expect(trainConfigSchema.shape[setting.key].safeParse(DEFAULT_TRAIN_CONFIG[setting.key]).success).toBe(
        true,
      );
    const flags = TRAIN_SETTINGS.map((s) => s.flag);
    expect(new Set(flags).size).toBe(flags.length);
    expect(CONFIG_SETTINGS.map((s) => s.key)).not.toContain('logEvery');
    expect(CONFIG_SETTINGS).toHaveLength(TRAIN_SETTINGS.length - 1);
  });

  it('declares ranges that are the schema’s own', () => {
    for (const setting of TRAIN_SETTINGS) {
      if (setting.kind !== 'number') continue;
      const schema = trainConfigSchema.shape[setting.key];
      expect(schema.safeParse(setting.min).success, setting.key).toBe(true);
      expect(schema.safeParse(setting.max).success, setting.key).toBe(true);
      expect(schema.safeParse(setting.max + 1).success, setting.key).toBe(false);
      expect(schema.safeParse(setting.min - 1).success, setting.key).toBe(false);
    }
  });
});
