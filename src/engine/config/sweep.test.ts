/** The sweep's contract: the grid's cells in order, the best cell, the typed lists and budget checked by name. */
import { describe, expect, it } from 'vitest';
import type { MethodParam } from './methods';
import {
  bestSweepCell,
  cellKey,
  cellParams,
  DEFAULT_SWEEP_ALPHAS,
  DEFAULT_SWEEP_TEMPERATURES,
  parseSweepList,
  parseSweepSteps,
  SWEEP_BASELINE,
  sweepCells,
} from './sweep';

const temperature: MethodParam = { name: 'temperature', label: 'T', default: 4, min: 0.5, max: 20, help: '' };

describe('sweep grid', () => {
  it('is the guide default, 5 x 3, row by row (T), column by column (alpha)', () => {
    expect(DEFAULT_SWEEP_TEMPERATURES).toEqual([1, 2, 4, 8, 16]);
    expect(DEFAULT_SWEEP_ALPHAS).toEqual([0.1, 0.5, 0.9]);
    const cells = sweepCells(DEFAULT_SWEEP_TEMPERATURES, DEFAULT_SWEEP_ALPHAS);
    expect(cells).toHaveLength(15);
    expect(cells.slice(0, 4)).toEqual([
      { temperature: 1, alpha: 0.1 },
      { temperature: 1, alpha: 0.5 },
      { temperature: 1, alpha: 0.9 },
      { temperature: 2, alpha: 0.1 },
    ]);
    expect(new Set(cells.map(cellKey)).size).toBe(15);
    expect(cellKey(null)).toBe(SWEEP_BASELINE);
    expect(cellParams({ temperature: 8, alpha: 0.5 })).toEqual({ temperature: 8, alpha: 0.5 });
  });

  it('names the best finished cell, the first of equals in grid order, skipping unfinished ones', () => {
    const cells = [
      { temperature: 1, alpha: 0.1, testAccuracy: 0.3 },
      { temperature: 1, alpha: 0.5, testAccuracy: null },
      { temperature: 2, alpha: 0.1, testAccuracy: 0.42 },
      { temperature: 2, alpha: 0.5, testAccuracy: 0.42 },
      { temperature: 4, alpha: 0.1, testAccuracy: Number.NaN },
    ];
    expect(bestSweepCell(cells)).toMatchObject({ temperature: 2, alpha: 0.1, testAccuracy: 0.42 });
    expect(bestSweepCell([{ temperature: 1, alpha: 0.1, testAccuracy: null }])).toBeNull();
    expect(bestSweepCell([])).toBeNull();
  });

  it('reads a typed list against the parameter range, naming every bad entry; duplicates once', () => {
    expect(parseSweepList(' 1, 2 ,4,4 ', temperature)).toEqual({ values: [1, 2, 4] });
    expect(parseSweepList('0, 2, abc, 30', temperature)).toEqual({
      error: 'temperature must be between 0.5 and 20; got "0", "abc", "30"',
    });
    expect(parseSweepList(' , ', temperature)).toEqual({ error: 'temperature: give at least one value' });
  });

  it('reads the steps budget as a whole number from 1', () => {
    expect(parseSweepSteps('25')).toEqual({ steps: 25 });
    for (const bad of ['0', '2.5', '', 'ten', '-3'])
      expect(parseSweepSteps(bad)).toEqual({
        error: `steps per cell must be a whole number from 1 to 100000; got "${bad}"`,
      });
  });
});
