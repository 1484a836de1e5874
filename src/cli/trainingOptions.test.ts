import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultTrainConfig, TRAIN_SETTINGS } from '../engine/config/training';
import { errorOf } from '../testing/errorOf';
import { SETTING_FLAGS_USAGE, TRAINING_OPTIONS, trainConfigFrom } from './trainingOptions';

const student = { role: 'student', model: 'cnn-small' } as const;

describe('the CLI flags of the training settings', () => {
  it('has one flag per row of the settings table (a switch as --no-<flag>), besides set, out and backend', () => {
    const flags = TRAIN_SETTINGS.map((s) => (s.kind === 'switch' ? `no-${s.flag}` : s.flag));
    expect(Object.keys(TRAINING_OPTIONS).sort()).toEqual([...flags, 'set', 'out', 'backend'].sort());
    expect(flags).toEqual(
      expect.arrayContaining(['epochs', 'batch', 'lr', 'weight-decay', 'seed', 'no-augment', 'log-every']),
    );
    expect(SETTING_FLAGS_USAGE).toContain('[--optimizer sgd|adam]');
    expect(SETTING_FLAGS_USAGE).toContain('[--epochs N] [--batch N]');
    expect(SETTING_FLAGS_USAGE).toContain('[--lr X]');
    expect(SETTING_FLAGS_USAGE).toContain('[--no-augment]');
  });

  it('maps parsed flags to settings over the preset’s defaults', () => {
    const { values } = parseArgs({
      args: ['--lr', '0.1', '--seed', '5', '--no-augment', '--optimizer', 'adam', '--weight-decay', '0'],
      options: TRAINING_OPTIONS,
      strict: true,
    });
    expect(trainConfigFrom(values, student)).toEqual({
      ...defaultTrainConfig('cnn-small'),
      ...student,
      learningRate: 0.1,
      seed: 5,
      augment: false,
      optimizer: 'adam',
      weightDecay: 0,
    });
    expect(trainConfigFrom({}, student)).toEqual({ ...defaultTrainConfig('cnn-small'), ...student });
  });

  it('refuses bad values with the schema’s reasons', () => {
    const error = errorOf(() => trainConfigFrom({ epochs: 'abc', schedule: 'linear' }, student));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'epochs must be a number between 1 and 1,000; schedule must be one of cosine, step, onecycle, constant',
    );
  });
});
