import { describe, expect, it } from 'vitest';
import { errorOf } from '../../testing/errorOf';
import { DISTILL_METHODS } from '../distill/registry';
import { BASELINE_METHOD, checkParam, type MethodParam, MethodParamError, validateParams } from './methods';

const temperature: MethodParam = {
  name: 'temperature',
  label: 'Temperature T',
  default: 4,
  min: 0.5,
  max: 20,
  help: 'Softens both softmaxes.',
};

describe('method parameters', () => {
  it('checks one value, from a number or a numeric string, with the reason naming the range', () => {
    expect(checkParam(temperature, 2)).toEqual({ value: 2 });
    expect(checkParam(temperature, ' 8 ')).toEqual({ value: 8 });
    expect(checkParam(temperature, 0)).toEqual({ error: 'temperature must be between 0.5 and 20; got 0' });
    expect(checkParam(temperature, '')).toEqual({
      error: 'temperature must be a number between 0.5 and 20; got ""',
    });
    expect(checkParam({ ...temperature, integer: true }, 2.5)).toEqual({
      error: 'temperature must be a whole number between 0.5 and 20; got 2.5',
    });
  });

  it('validates a whole request: defaults for the left-out, every problem listed', () => {
    const method = { id: 'kd', params: [temperature] };
    expect(validateParams(method)).toEqual({ temperature: 4 });
    const error = errorOf(() => validateParams(method, { tau: 1, temperature: 30 }));
    expect(error).toBeInstanceOf(MethodParamError);
    expect(error.message).toBe(
      'unknown parameter "tau": valid are temperature; temperature must be between 0.5 and 20; got 30',
    );
    expect(errorOf(() => validateParams({ id: 'ce', params: [] }, { x: 1 })).message).toBe(
      'unknown parameter "x": ce takes no parameters',
    );
  });
});

describe('what the methods declare for the UI (no branch on a method’s name there)', () => {
  it('only the baseline needs no teacher; methods with anchors say what their set-up does', () => {
    expect(DISTILL_METHODS.filter((m) => !m.needsTeacher).map((m) => m.id)).toEqual([BASELINE_METHOD]);
    for (const method of DISTILL_METHODS.filter((m) => m.learnsAnchorMasks))
      expect(method.setupNote, method.id).toMatch(/anchors/);
  });
});
