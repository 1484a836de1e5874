/**
 * The temperature x alpha sweep (issue 12) as the UI, the store, the Worker and the CLI share it, without tfjs:
 * the method it sweeps and which two of its parameters, the default grid, the cells in order, the request and
 * result shapes, and which cell is best. The UI runs it through the Worker (src/engine/run/sweepRun.ts), the CLI
 * as child processes (src/cli/commands/sweep.ts). See docs/design.md §9 (runs).
 */
import { BASELINE_METHOD, type MethodParam } from './methods';
import type { TrainConfig } from './training';

/** The method the sweep runs, and its two swept parameters (declared in that method's file). */
export const SWEEP_METHOD = 'kd';
export const SWEEP_ROW_PARAM = 'temperature';
export const SWEEP_COLUMN_PARAM = 'alpha';

/** The default grid, as in the KD guide: T in {1, 2, 4, 8, 16} x alpha in {0.1, 0.5, 0.9}. */
export const DEFAULT_SWEEP_TEMPERATURES: readonly number[] = [1, 2, 4, 8, 16];
export const DEFAULT_SWEEP_ALPHAS: readonly number[] = [0.1, 0.5, 0.9];
/** Training steps per cell in the browser (the CE baseline gets the same). */
export const DEFAULT_SWEEP_STEPS = 100;
export const MAX_SWEEP_STEPS = 100_000;

/** One cell of the grid; `null` values: the CE baseline (the student on labels alone, same budget and seed). */
export interface SweepCellSpec {
  readonly temperature: number;
  readonly alpha: number;
}

/** A finished cell (or the baseline, with `cell` null). */
export interface SweepCellResult {
  readonly cell: SweepCellSpec | null;
  readonly testAccuracy: number;
  /** Steps it trained. */
  readonly steps: number;
  readonly seconds: number;
}

/** What the Worker is asked to run: the cells still to do, each `steps` long, with these training settings. */
export interface SweepRequest {
  /** Cells to run, in order; `null` is the CE baseline. */
  readonly cells: readonly (SweepCellSpec | null)[];
  readonly steps: number;
  /** The student's training settings (the Distillation panel's); epochs are set from `steps`. */
  readonly train: TrainConfig;
}

/** How a sweep call ended: every cell asked for done, or cancelled after `done` of them. */
export interface SweepEnd {
  readonly kind: 'done' | 'cancelled';
  readonly done: number;
}

/** The baseline's method, named where the sweep describes a cell. */
export const SWEEP_BASELINE = BASELINE_METHOD;

export const cellKey = (cell: SweepCellSpec | null): string =>
  cell === null ? SWEEP_BASELINE : `T${cell.temperature}-a${cell.alpha}`;

/** Every cell, temperature by temperature (rows), alpha by alpha (columns). */
export const sweepCells = (temperatures: readonly number[], alphas: readonly number[]): SweepCellSpec[] =>
  temperatures.flatMap((temperature) => alphas.map((alpha) => ({ temperature, alpha })));

/** The cells' parameters as the method takes them. */
export const cellParams = (cell: SweepCellSpec): Record<string, number> => ({
  [SWEEP_ROW_PARAM]: cell.temperature,
  [SWEEP_COLUMN_PARAM]: cell.alpha,
});

/** The finished cell with the highest test accuracy (the first of equals in grid order); the baseline is not a cell. */
export function bestSweepCell<R extends { readonly testAccuracy: number | null }>(
  cells: readonly (R & SweepCellSpec)[],
): (R & SweepCellSpec) | null {
  let best: (R & SweepCellSpec) | null = null;
  for (const c of cells) {
    const acc = c.testAccuracy;
    if (acc !== null && Number.isFinite(acc) && (best === null || acc > best.testAccuracy!)) best = c;
  }
  return best;
}

/**
 * A comma-separated list of values for one swept parameter, checked against its declared range; the message
 * names the parameter and every bad entry.
 */
export function parseSweepList(text: string, param: MethodParam): { values: number[] } | { error: string } {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return { error: `${param.name}: give at least one value` };
  const values: number[] = [];
  const bad: string[] = [];
  for (const part of parts) {
    const value = Number(part);
    if (!Number.isFinite(value) || value < param.min || value > param.max) bad.push(part);
    else if (!values.includes(value)) values.push(value);
  }
  if (bad.length)
    return {
      error: `${param.name} must be between ${param.min} and ${param.max}; got ${bad.map((b) => `"${b}"`).join(', ')}`,
    };
  return { values };
}

/** The steps budget per cell, or why not. */
export function parseSweepSteps(text: string): { steps: number } | { error: string } {
  const steps = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(steps) || steps < 1 || steps > MAX_SWEEP_STEPS)
    return { error: `steps per cell must be a whole number from 1 to ${MAX_SWEEP_STEPS}; got "${text}"` };
  return { steps };
}
