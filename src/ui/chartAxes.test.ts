import { describe, expect, it } from 'vitest';
import { EPOCH_AXIS, fixed, labelled, percentAxis, STEP_AXIS, xTitled, yTitled } from './chartAxes';

describe('chart settings', () => {
  it('are one object per key, so that recharts sees an unchanged prop at every redraw', () => {
    expect(xTitled('step')).toBe(xTitled('step'));
    expect(yTitled('loss')).toBe(yTitled('loss'));
    expect(percentAxis('accuracy %')).toBe(percentAxis('accuracy %'));
    expect(fixed(2)).toBe(fixed(2));
    expect(labelled('epoch')).toBe(labelled('epoch'));
    expect(xTitled('step')).not.toBe(xTitled('epoch'));
    expect(fixed(2)).not.toBe(fixed(4));
  });

  it('title the axis and format the numbers', () => {
    expect(xTitled('step').label).toMatchObject({ value: 'step' });
    // Centred on the axis: a rotated title anchored at its start ran off the chart's top.
    expect(yTitled('loss').label).toMatchObject({ value: 'loss', angle: -90, textAnchor: 'middle' });
    expect(percentAxis('accuracy %')).toMatchObject({ domain: [0, 100], label: { value: 'accuracy %' } });
    expect(fixed(2)(1.2345)).toBe('1.23');
    expect(fixed(1)('n/a')).toBe('n/a');
    expect(labelled('step')(12)).toBe('step 12');
  });

  it('count epochs from 1 and steps from 0, in whole numbers', () => {
    expect(EPOCH_AXIS).toMatchObject({ dataKey: 'epoch', domain: [1, 'dataMax'], allowDecimals: false });
    expect(STEP_AXIS).toMatchObject({ dataKey: 'step', domain: [0, 'dataMax'], allowDecimals: false });
    expect(STEP_AXIS.label).toBe(xTitled('step').label);
  });
});
