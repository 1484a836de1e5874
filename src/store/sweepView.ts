/**
 * The sweep panel's numbers, pure: the grid as rows of cells (finished, running, waiting), the best cell, each
 * cell's points against the CE baseline and its heatmap colour. The colour scale is diverging around the
 * baseline (green above it, red below, white at it, full strength at the largest distance in the grid), so the
 * eye reads "did distillation help here" before the exact number; without a baseline it runs light to dark
 * over the grid's range.
 */
import {
  bestSweepCell,
  cellKey,
  SWEEP_BASELINE,
  type SweepCellResult,
  type SweepCellSpec,
  sweepCells,
} from '../engine/config/sweep';

export type CellStatus = 'done' | 'running' | 'waiting';

export interface HeatCell extends SweepCellSpec {
  readonly key: string;
  readonly status: CellStatus;
  readonly testAccuracy: number | null;
  /** Percentage points against the baseline; null without both. */
  readonly points: number | null;
  readonly colour: string;
  readonly best: boolean;
}

export interface HeatmapView {
  readonly temperatures: readonly number[];
  readonly alphas: readonly number[];
  readonly rows: readonly (readonly HeatCell[])[];
  readonly baseline: { readonly status: CellStatus; readonly testAccuracy: number | null };
  readonly best: HeatCell | null;
  readonly done: number;
  readonly total: number;
}

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const ABOVE: Rgb = [26, 152, 80];
const BELOW: Rgb = [215, 48, 39];
const LIGHT: Rgb = [222, 235, 247];
const DARK: Rgb = [33, 102, 172];
export const WAITING_COLOUR = 'rgb(240, 240, 240)';

const mix = (from: Rgb, to: Rgb, t: number): string => {
  const k = Math.min(1, Math.max(0, t));
  const c = from.map((v, i) => Math.round(v + (to[i]! - v) * k));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
};

/**
 * A finished cell's colour: against the baseline, white at it and full green (red) at `spread` above (below);
 * without a baseline, light at `min` and dark at `max`.
 */
export function heatColour(
  accuracy: number,
  scale: { baseline: number | null; spread: number; min: number; max: number },
): string {
  if (scale.baseline !== null) {
    const diff = accuracy - scale.baseline;
    if (scale.spread <= 0 || diff === 0) return mix(WHITE, ABOVE, 0);
    return mix(WHITE, diff > 0 ? ABOVE : BELOW, Math.abs(diff) / scale.spread);
  }
  const range = scale.max - scale.min;
  return mix(LIGHT, DARK, range > 0 ? (accuracy - scale.min) / range : 1);
}

/** The heatmap of a grid from the finished results (by cellKey) and the cell under way. */
export function heatmapView(
  temperatures: readonly number[],
  alphas: readonly number[],
  results: Readonly<Record<string, SweepCellResult>>,
  runningKey: string | null,
): HeatmapView {
  const statusOf = (key: string): CellStatus =>
    results[key] ? 'done' : key === runningKey ? 'running' : 'waiting';
  const baseline = results[SWEEP_BASELINE]?.testAccuracy ?? null;
  const cells = sweepCells(temperatures, alphas).map((cell) => ({
    ...cell,
    key: cellKey(cell),
    testAccuracy: results[cellKey(cell)]?.testAccuracy ?? null,
  }));
  const finished = cells.flatMap((c) => (c.testAccuracy === null ? [] : [c.testAccuracy]));
  const scale = {
    baseline,
    spread: baseline === null ? 0 : Math.max(0, ...finished.map((a) => Math.abs(a - baseline))),
    min: Math.min(...finished),
    max: Math.max(...finished),
  };
  const best = bestSweepCell(cells);
  const heat: HeatCell[] = cells.map((c) => ({
    ...c,
    status: statusOf(c.key),
    points: c.testAccuracy !== null && baseline !== null ? (c.testAccuracy - baseline) * 100 : null,
    colour: c.testAccuracy === null ? WAITING_COLOUR : heatColour(c.testAccuracy, scale),
    best: best !== null && best.key === c.key,
  }));
  const rows = temperatures.map((_, i) => heat.slice(i * alphas.length, (i + 1) * alphas.length));
  return {
    temperatures,
    alphas,
    rows,
    baseline: { status: statusOf(SWEEP_BASELINE), testAccuracy: baseline },
    best: heat.find((c) => c.best) ?? null,
    done: finished.length + (baseline === null ? 0 : 1),
    total: cells.length + 1,
  };
}

/** The cells of a request still to run, baseline first: those without a kept result. */
export const remainingCells = (
  temperatures: readonly number[],
  alphas: readonly number[],
  results: Readonly<Record<string, SweepCellResult>>,
): (SweepCellSpec | null)[] =>
  [null, ...sweepCells(temperatures, alphas)].filter((cell) => !results[cellKey(cell)]);
