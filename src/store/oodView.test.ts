import { describe, expect, it } from 'vitest';
import type { OodRow } from '../worker/protocol';
import { bestValues, isBest, keepChosen } from './oodView';

const row = (
  model: string,
  set: string,
  score: OodRow['score'],
  auroc: number,
  aupr: number,
  fpr95: number,
): OodRow => ({
  model,
  set,
  score,
  auroc,
  aupr,
  fpr95,
  histogram: [],
  roc: [],
});

describe('trust panel views', () => {
  it('marks the best value per set and metric: highest AUROC/AUPR, lowest FPR95, ties all bold', () => {
    const rows = [
      row('t', 'mnist', 'msp', 0.77, 0.7, 0.8),
      row('t', 'mnist', 'anchorU', 0.99, 0.98, 0.05),
      row('s', 'mnist', 'anchorU', 0.99, 0.5, 0.3),
      row('t', 'uniform', 'msp', 0.6, 0.9, 0.9),
    ];
    const best = bestValues(rows);
    expect(best.get('mnist')).toEqual({ auroc: 0.99, aupr: 0.98, fpr95: 0.05 });
    expect(isBest(best, rows[1]!, 'auroc')).toBe(true);
    expect(isBest(best, rows[2]!, 'auroc')).toBe(true);
    expect(isBest(best, rows[2]!, 'fpr95')).toBe(false);
    expect(isBest(best, rows[0]!, 'auroc')).toBe(false);
    // Another set has its own best.
    expect(isBest(best, rows[3]!, 'auroc')).toBe(true);
  });

  it('keeps the choices that still exist, else the fallback', () => {
    expect(keepChosen(['a', 'b'], ['b', 'c'], ['c'])).toEqual(['b']);
    expect(keepChosen(['a'], ['b', 'c'], ['c'])).toEqual(['c']);
    expect(keepChosen([], ['b'], ['x'])).toEqual([]);
  });
});
