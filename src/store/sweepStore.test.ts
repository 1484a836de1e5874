/** The sweep panel's plan: the typed grid against the swept method's declared ranges, the student's settings. */
import { describe, expect, it } from 'vitest';
import { distillMethodInfos } from '../engine/run/runSpec';
import { planSweep } from './sweepStore';
import { defaultForm } from './trainForm';

const methods = distillMethodInfos();
const form = defaultForm('cnn-small');
const typed = { temperaturesText: '1, 4', alphasText: '0.5,0.9', stepsText: '20' };

describe('planSweep', () => {
  it('reads the grid, the budget and the Distillation panel settings; the results key follows all of them', () => {
    const planned = planSweep(typed, methods, form, { dataset: 'embedded' });
    if (!('plan' in planned)) throw new Error(planned.error);
    expect(planned.plan).toMatchObject({ temperatures: [1, 4], alphas: [0.5, 0.9], steps: 20 });
    expect(planned.plan.train).toMatchObject({ model: 'cnn-small', role: 'student' });
    const keyOf = (p: ReturnType<typeof planSweep>) => ('plan' in p ? p.plan.of : p.error);
    expect(
      keyOf(planSweep({ ...typed, temperaturesText: '2' }, methods, form, { dataset: 'embedded' })),
    ).toBe(planned.plan.of);
    expect(keyOf(planSweep({ ...typed, stepsText: '21' }, methods, form, { dataset: 'embedded' }))).not.toBe(
      planned.plan.of,
    );
    expect(keyOf(planSweep(typed, methods, form, { dataset: 'upload' }))).not.toBe(planned.plan.of);
    expect(
      keyOf(planSweep(typed, methods, { ...form, learningRate: '0.01' }, { dataset: 'embedded' })),
    ).not.toBe(planned.plan.of);
  });

  it('names every problem at once, with the method ranges; waits for the method list', () => {
    expect(
      planSweep({ temperaturesText: '0.1', alphasText: '2', stepsText: '0' }, methods, {
        ...form,
        learningRate: 'x',
      }),
    ).toEqual({
      error: expect.stringMatching(
        /^temperature must be between 0.5 and 20; got "0.1"; alpha must be between 0 and 1; got "2"; steps per cell must be a whole number from 1 to 100000; got "0"; the Distillation panel's settings: .*learning rate/,
      ),
    });
    expect(planSweep(typed, null, form)).toEqual({ error: 'the distillation methods are still loading' });
  });
});
