/** The sweep heatmap's numbers: the diverging colour scale around the baseline, the cells' states, best and points. */
import { describe, expect, it } from 'vitest';
import type { SweepCellResult } from '../engine/config/sweep';
import { heatColour, heatmapView, remainingCells, WAITING_COLOUR } from './sweepView';

const result = (temperature: number | null, alpha: number, testAccuracy: number): SweepCellResult => ({
  cell: temperature === null ? null : { temperature, alpha },
  testAccuracy,
  steps: 10,
  seconds: 1,
});

describe('heatColour', () => {
  const scale = { baseline: 0.5, spread: 0.1, min: 0.4, max: 0.6 };
  it('is white at the baseline, full green a spread above, full red a spread below, half way between', () => {
    expect(heatColour(0.5, scale)).toBe('rgb(255, 255, 255)');
    expect(heatColour(0.6, scale)).toBe('rgb(26, 152, 80)');
    expect(heatColour(0.4, scale)).toBe('rgb(215, 48, 39)');
    // Half way (0.125 of 0.25, exact in binary): 255 + (26 - 255) / 2 = 140.5 -> 141; 255 + (152 - 255) / 2 = 203.5 -> 204; (80 + 255) / 2 = 167.5 -> 168
    expect(heatColour(0.625, { ...scale, spread: 0.25 })).toBe('rgb(141, 204, 168)');
    // Beyond the spread it stays at full strength.
    expect(heatColour(0.9, scale)).toBe('rgb(26, 152, 80)');
  });
  it('without a baseline runs light to dark over the range', () => {
    const plain = { baseline: null, spread: 0, min: 0.2, max: 0.4 };
    expect(heatColour(0.2, plain)).toBe('rgb(222, 235, 247)');
    expect(heatColour(0.4, plain)).toBe('rgb(33, 102, 172)');
  });
});

describe('heatmapView', () => {
  it('shows finished, running and waiting cells, points against the baseline and the best cell', () => {
    const results = {
      ce: result(null, 0, 0.3),
      'T1-a0.1': result(1, 0.1, 0.25),
      'T1-a0.5': result(1, 0.5, 0.35),
    };
    const view = heatmapView([1, 2], [0.1, 0.5], results, 'T2-a0.1');
    expect(view.total).toBe(5);
    expect(view.done).toBe(3);
    expect(view.baseline).toEqual({ status: 'done', testAccuracy: 0.3 });
    expect(view.rows.map((r) => r.map((c) => c.status))).toEqual([
      ['done', 'done'],
      ['running', 'waiting'],
    ]);
    const [low, high] = view.rows[0]!;
    expect(low!.points).toBeCloseTo(-5, 10);
    expect(high!.points).toBeCloseTo(5, 10);
    // The largest distance from the baseline is 5 points: both ends at full strength.
    expect(low!.colour).toBe('rgb(215, 48, 39)');
    expect(high!.colour).toBe('rgb(26, 152, 80)');
    expect(view.rows[1]![0]!.colour).toBe(WAITING_COLOUR);
    expect(view.best).toMatchObject({ temperature: 1, alpha: 0.5, best: true });
    expect(view.rows.flat().filter((c) => c.best)).toHaveLength(1);
  });
  it('without a baseline yet: no points, a sequential scale', () => {
    const view = heatmapView([1], [0.1, 0.9], { 'T1-a0.1': result(1, 0.1, 0.2) }, 'ce');
    expect(view.baseline.status).toBe('running');
    expect(view.rows[0]![0]!.points).toBeNull();
    expect(view.rows[0]![0]!.colour).toBe('rgb(33, 102, 172)');
  });
});

describe('remainingCells', () => {
  it('lists the baseline first, then the grid cells without a result', () => {
    expect(
      remainingCells([1, 2], [0.5], { ce: result(null, 0, 0.3), 'T1-a0.5': result(1, 0.5, 0.3) }),
    ).toEqual([{ temperature: 2, alpha: 0.5 }]);
    expect(remainingCells([1], [0.5], {})).toEqual([null, { temperature: 1, alpha: 0.5 }]);
  });
});
