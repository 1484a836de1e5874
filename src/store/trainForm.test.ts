import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG, defaultTrainConfig } from '../engine/config/training';
import { checkForm, defaultForm, editedForm, formFromConfig, parseNumber } from './trainForm';

describe('parseNumber', () => {
  it('reads decimals and exponents as typed', () => {
    expect(parseNumber('0.05')).toBe(0.05);
    expect(parseNumber(' 5e-4 ')).toBe(5e-4);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('-3')).toBe(-3);
    expect(parseNumber('64')).toBe(64);
  });

  it('gives NaN for anything Number() would quietly accept or mangle', () => {
    for (const text of ['', '  ', 'abc', '0x10', '1,5', '1.2.3', 'Infinity', '5e', '1_000']) {
      expect(parseNumber(text), text).toBeNaN();
    }
  });
});

describe('checkForm', () => {
  it('turns the defaults into the engine defaults for the role and preset', () => {
    const { config, error } = checkForm(defaultForm('cnn-small'), 'student');
    expect(error).toBeNull();
    expect(config).toEqual({ ...defaultTrainConfig('cnn-small'), role: 'student', model: 'cnn-small' });
    // The CLI reads the same declaration: cnn-small's own learning rate, not the shared one.
    expect(config?.learningRate).toBe(0.02);
    expect(checkForm(defaultForm('vgg-fast'), 'teacher').config?.learningRate).toBe(
      DEFAULT_TRAIN_CONFIG.learningRate,
    );
  });

  it('refuses out-of-range and non-numeric values with the engine’s reasons', () => {
    const form = defaultForm('cnn-small');
    expect(checkForm({ ...form, learningRate: '50' }, 'student').error).toBe(
      'learning rate must be between 0.000001 and 10',
    );
    expect(checkForm({ ...form, learningRate: 'fast' }, 'student').error).toBe(
      'learning rate must be a number between 0.000001 and 10',
    );
    expect(checkForm({ ...form, batchSize: '2.5', epochs: '' }, 'student').error).toBe(
      'epochs must be a number between 1 and 1,000; batch size must be a whole number between 1 and 1,024',
    );
    expect(checkForm({ ...form, model: '' }, 'teacher').config).toBeNull();
  });

  it('round-trips a run’s settings through the form', () => {
    const config = {
      ...DEFAULT_TRAIN_CONFIG,
      role: 'teacher' as const,
      model: 'resnet20',
      learningRate: 1e-4,
      augment: false,
    };
    expect(checkForm(formFromConfig(config), 'teacher').config).toEqual(config);
  });
});

describe('editedForm', () => {
  it("moves fields still at the old preset's defaults to the new preset's, and keeps typed ones", () => {
    const small = defaultForm('cnn-small');
    const moved = editedForm(small, { model: 'resnet8' });
    expect(moved).toEqual(defaultForm('resnet8'));
    const typed = editedForm({ ...small, learningRate: '0.002' }, { model: 'resnet8' });
    expect(typed.learningRate).toBe('0.002');
    expect(typed.epochs).toBe(defaultForm('resnet8').epochs);
    // The first preset to arrive replaces the empty form's shared defaults.
    expect(editedForm(defaultForm(), { model: 'cnn-small' })).toEqual(small);
    // Any other edit is applied as typed.
    expect(editedForm(small, { epochs: '7' }).epochs).toBe('7');
  });
});
