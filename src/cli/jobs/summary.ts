/** Mean and spread over seeds for the grid reports, and how the tables print them. */

export interface Stat {
  readonly mean: number;
  /** Sample standard deviation (n - 1); null for a single value. */
  readonly std: number | null;
  readonly n: number;
}

export function statOf(values: readonly number[]): Stat | null {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (!n) return null;
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, std, n };
}

/** `52.9 ± 0.4%` (a fraction shown as a percentage). */
export const pctStat = (s: Stat | null, digits = 1): string =>
  s === null
    ? '—'
    : `${(s.mean * 100).toFixed(digits)}${s.std === null ? '' : ` ± ${(s.std * 100).toFixed(digits)}`}%`;

/** `0.812 ± 0.010`. */
export const numStat = (s: Stat | null, digits = 3): string =>
  s === null ? '—' : `${s.mean.toFixed(digits)}${s.std === null ? '' : ` ± ${s.std.toFixed(digits)}`}`;

/** Signed difference in points of a percentage: `+4.2`. */
export const points = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

/**
 * Whether the difference of two means is larger than their seeds' spread (the sum of the standard deviations),
 * in words for a findings line.
 */
export function spreadWords(a: Stat, b: Stat, scale = 100, unit = ' points'): string {
  if (a.std === null || b.std === null) return 'one seed each, so no spread was measured';
  const spread = a.std + b.std;
  const diff = Math.abs(a.mean - b.mean);
  return diff > spread
    ? `larger than the seeds' spread (std ${(a.std * scale).toFixed(1)} and ${(b.std * scale).toFixed(1)}${unit})`
    : `within the seeds' spread (std ${(a.std * scale).toFixed(1)} and ${(b.std * scale).toFixed(1)}${unit}), so not a measured difference`;
}
