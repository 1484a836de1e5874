import { describe, expect, it } from 'vitest';
import { checkParam, LABELLED_FRACTIONS, MethodParamError, validateParams } from '../engine/config/methods';
import { DISTILL_METHODS } from '../engine/distill/registry';
import { errorOf } from '../testing/errorOf';
import type { MethodParam } from '../worker/protocol';
import { checkParams, LABELLED_CHOICES, labelledText, paramsText, rangeText } from './distillForm';

const temperature: MethodParam = {
  name: 'temperature',
  label: 'Temperature T',
  default: 4,
  min: 0.5,
  max: 20,
  help: 'Softens both softmaxes.',
};
const anchors: MethodParam = {
  name: 'anchorsPerClass',
  label: 'Anchors per class',
  default: 1,
  min: 1,
  max: 10,
  integer: true,
  help: 'Most central records per class.',
};

/** The engine's reason for one raw value of one parameter, or null when it accepts it. */
function engineReason(method: (typeof DISTILL_METHODS)[number], name: string, text: string): string | null {
  try {
    validateParams(method, { [name]: text });
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(MethodParamError);
    return (error as Error).message;
  }
}

describe('the parameter form', () => {
  it('refuses T = 0 with the engine’s reason, naming the range', () => {
    expect(checkParam(temperature, '0')).toEqual({ error: 'temperature must be between 0.5 and 20; got 0' });
    expect(checkParam(temperature, 'hot')).toEqual({
      error: 'temperature must be a number between 0.5 and 20; got "hot"',
    });
    expect(checkParam(temperature, '')).toEqual({
      error: 'temperature must be a number between 0.5 and 20; got ""',
    });
    expect(checkParam(anchors, '1.5')).toEqual({
      error: 'anchorsPerClass must be a whole number between 1 and 10; got 1.5',
    });
    expect(checkParam(temperature, ' 8 ')).toEqual({ value: 8 });
    expect(checkParam(temperature, '20')).toEqual({ value: 20 });
  });

  it('gives a field the reason validateParams gives the whole request, for every parameter of every method', () => {
    let compared = 0;
    for (const method of DISTILL_METHODS) {
      for (const param of method.params) {
        const texts = [
          String(param.default),
          String(param.min),
          String(param.max),
          String(param.min - 1),
          String(param.max + 1),
          String((param.min + param.max) / 2 + 0.25),
          '0',
          '-0.5',
          '1e-3',
          '0x10',
          'abc',
          '',
          '  ',
          ' 2 ',
          'Infinity',
          'NaN',
        ];
        for (const text of texts) {
          const ui = checkParam(param, text);
          const engine = engineReason(method, param.name, text);
          expect('error' in ui ? ui.error : null, `${method.id} ${param.name} "${text}"`).toBe(engine);
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('checks a method’s parameters together: values, or the reason per refused parameter', () => {
    const method = { params: [temperature, anchors] };
    expect(checkParams(method, {})).toEqual({ values: { temperature: 4, anchorsPerClass: 1 }, errors: {} });
    expect(checkParams(method, { temperature: '0', anchorsPerClass: '3' })).toEqual({
      values: null,
      errors: { temperature: 'temperature must be between 0.5 and 20; got 0' },
    });
    expect(checkParams({ params: [] }, {})).toEqual({ values: {}, errors: {} });
  });

  it('shows ranges, fractions and a run’s parameters as text', () => {
    expect(rangeText(temperature)).toBe('0.5 to 20');
    expect(rangeText(anchors)).toBe('whole number, 1 to 10');
    expect(rangeText({ ...temperature, min: 0, max: 30_000 })).toBe('0 to 30,000');
    expect(LABELLED_CHOICES.map(labelledText)).toEqual(['100%', '20%', '0%']);
    expect(paramsText({ params: [temperature] }, { temperature: 4 })).toBe('temperature 4');
    expect(paramsText({ params: [temperature] }, { temperature: 2 })).toBe('temperature 2*');
    expect(paramsText(undefined, {})).toBe('—');
  });

  it('offers the engine’s label fractions', () => {
    expect([...LABELLED_CHOICES]).toEqual([...LABELLED_FRACTIONS]);
  });
});

describe('validateParams (the engine side of the form)', () => {
  it('lists the valid names for an unknown one', () => {
    const kd = DISTILL_METHODS.find((m) => m.id === 'kd')!;
    expect(errorOf(() => validateParams(kd, { tau: 1 })).message).toBe(
      'unknown parameter "tau": valid are temperature, alpha',
    );
  });
});
