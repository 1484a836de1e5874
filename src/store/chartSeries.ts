/**
 * Chart data from the run's logs. A long run logs thousands of steps; the loss chart draws at most a few
 * hundred points (averages of consecutive steps), so a redraw stays far below a frame's budget.
 */
import type { EpochLog, StepLog } from '../worker/protocol';

/** One point of the loss chart: the global step and one value per loss term. */
export type LossPoint = { readonly step: number } & Readonly<Record<string, number>>;

export interface LossSeries {
  /** Term names in the order the engine reports them (ce, weightDecay, ..., total). */
  readonly terms: readonly string[];
  readonly points: readonly LossPoint[];
}

/** Steps since the run began (1-based), across epochs. */
export const globalStep = (log: StepLog): number => (log.epoch - 1) * log.stepsPerEpoch + log.step;

export function lossSeries(steps: readonly StepLog[], maxPoints = 300): LossSeries {
  const first = steps[0];
  if (!first) return { terms: [], points: [] };
  const terms = Object.keys(first.terms);
  const size = Math.max(1, Math.ceil(steps.length / maxPoints));
  const points: LossPoint[] = [];
  for (let start = 0; start < steps.length; start += size) {
    const bucket = steps.slice(start, start + size);
    const point: Record<string, number> = { step: globalStep(bucket[bucket.length - 1]!) };
    for (const term of terms) {
      point[term] = bucket.reduce((sum, log) => sum + (log.terms[term] ?? Number.NaN), 0) / bucket.length;
    }
    points.push(point as LossPoint);
  }
  return { terms, points };
}

export interface AccuracyPoint {
  readonly epoch: number;
  /** Percent. */
  readonly train: number;
  readonly test: number;
}

export const accuracySeries = (epochs: readonly EpochLog[]): AccuracyPoint[] =>
  epochs.map((log) => ({ epoch: log.epoch, train: log.trainAccuracy * 100, test: log.testAccuracy * 100 }));

/** How the charts name the loss terms the engine and the methods report. */
const TERM_LABELS: Readonly<Record<string, string>> = {
  ce: 'cross-entropy',
  weightDecay: 'weight decay',
  total: 'total',
  soft: 'KD soft',
  l1: 'L1',
  l2: 'L2',
  l3: 'L3',
  akd: 'L_AKD',
  hint: 'FitNet hint',
  at: 'AT',
  sp: 'SP',
  pkt: 'PKT',
  crd: 'CRD',
  tckd: 'TCKD',
  nckd: 'NCKD',
  distance: 'RKD distance',
  angle: 'RKD angle',
};

/**
 * A term's legend name: the known ones spelled out (`l1` -> "L1", `soft` -> "KD soft"); a combination's
 * prefixed term by its own name (`akd.l1` -> "L1", `kd.soft` -> "KD soft"); anything else as the engine names it.
 */
export function termLabel(term: string): string {
  const known = TERM_LABELS[term];
  if (known) return known;
  const dot = term.indexOf('.');
  return dot > 0 ? (TERM_LABELS[term.slice(dot + 1)] ?? term) : term;
}
