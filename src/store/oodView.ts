/**
 * Pure helpers of the trust panel's views: which table cells are best (bold), and the choices kept valid when
 * the lists of models and sets change. No React, no Worker: tested in oodView.test.ts.
 */
import type { OodResult, OodRow } from '../worker/protocol';

export const METRICS = ['auroc', 'aupr', 'fpr95'] as const;
export type OodMetric = (typeof METRICS)[number];

export const METRIC_LABELS: Record<OodMetric, string> = { auroc: 'AUROC', aupr: 'AUPR', fpr95: 'FPR95' };

/** Higher is better except for FPR95 (the share of OoD images still accepted). */
const better = (metric: OodMetric, a: number, b: number) => (metric === 'fpr95' ? a < b : a > b);

/**
 * The best value of each metric per OoD set, over every model and score of the result: the table shows those
 * cells in bold (ties: all of them).
 */
export function bestValues(rows: readonly OodRow[]): Map<string, Record<OodMetric, number>> {
  const best = new Map<string, Record<OodMetric, number>>();
  for (const row of rows) {
    const current = best.get(row.set);
    if (!current) {
      best.set(row.set, { auroc: row.auroc, aupr: row.aupr, fpr95: row.fpr95 });
      continue;
    }
    for (const metric of METRICS)
      if (better(metric, row[metric], current[metric])) current[metric] = row[metric];
  }
  return best;
}

export const isBest = (best: Map<string, Record<OodMetric, number>>, row: OodRow, metric: OodMetric) =>
  best.get(row.set)?.[metric] === row[metric];

/** Keeps the chosen ids that still exist; when none is left, takes `fallback` (if it exists). */
export function keepChosen(
  chosen: readonly string[],
  available: readonly string[],
  fallback: string[],
): string[] {
  const kept = chosen.filter((id) => available.includes(id));
  return kept.length ? kept : fallback.filter((id) => available.includes(id));
}

/** The row of the result for one model, set and score. */
export const rowOf = (result: OodResult, model: string, set: string, score: string) =>
  result.rows.find((r) => r.model === model && r.set === set && r.score === score) ?? null;
