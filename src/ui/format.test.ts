import { describe, expect, it } from 'vitest';
import { epochAndStep, formatDuration, formatPercent, formatSi } from './format';

describe('formats', () => {
  it('durations, coarse', () => {
    expect(formatDuration(0.4)).toBe('0 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(190.4)).toBe('3 min 10 s');
    expect(formatDuration(3900)).toBe('1 h 05 min');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('SI prefixes with three significant digits', () => {
    expect(formatSi(5_612_000)).toBe('5.61 M');
    expect(formatSi(67_800_000)).toBe('67.8 M');
    expect(formatSi(1_230_000_000)).toBe('1.23 G');
    expect(formatSi(24_234)).toBe('24.2 k');
    expect(formatSi(950)).toBe('950');
  });

  it('percentages', () => {
    expect(formatPercent(0.8523)).toBe('85.2%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(Number.NaN)).toBe('n/a');
  });

  it('a finished epoch reads as complete, not as the next one at step 0', () => {
    const at = (completedEpochs: number, stepInEpoch: number) =>
      epochAndStep({ completedEpochs, stepInEpoch, stepsPerEpoch: 157, epochs: 3 });
    expect(at(0, 0)).toEqual({ epoch: 1, step: 0 });
    expect(at(0, 42)).toEqual({ epoch: 1, step: 42 });
    expect(at(1, 0)).toEqual({ epoch: 1, step: 157 });
    expect(at(1, 1)).toEqual({ epoch: 2, step: 1 });
    expect(at(3, 0)).toEqual({ epoch: 3, step: 157 });
  });
});
