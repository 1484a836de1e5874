/**
 * The history's overlay of chosen runs (pure, unit-tested): test accuracy per epoch, and one named loss term
 * along training progress in epochs, so runs of different dataset sizes or batch sizes line up. A long run's
 * thousands of steps are drawn as at most `maxPoints` averages, as the panels' own loss charts do.
 */
import type { HistoryRun } from './runRecord';

/** One chart point: x, then each run's value under `seriesKey(i)` (i: the run's place among those chosen). */
export type CurvePoint = { readonly epoch: number } & Readonly<Record<string, number>>;

export const seriesKey = (index: number): string => `run${index}`;

/** Test accuracy (%) per epoch of each run, on one epoch axis. */
export function accuracyCurves(runs: readonly HistoryRun[]): CurvePoint[] {
  const byEpoch = new Map<number, Record<string, number>>();
  runs.forEach((run, i) => {
    for (const log of run.epochs) {
      const point = byEpoch.get(log.epoch) ?? { epoch: log.epoch };
      point[seriesKey(i)] = log.testAccuracy * 100;
      byEpoch.set(log.epoch, point);
    }
  });
  return ([...byEpoch.values()] as CurvePoint[]).sort((a, b) => a.epoch - b.epoch);
}

/** Every loss term the chosen runs logged, first-seen order (`total` first: every run has it). */
export function lossTerms(runs: readonly HistoryRun[]): string[] {
  const terms = new Set<string>();
  for (const run of runs) for (const name of Object.keys(run.steps[0]?.terms ?? {})) terms.add(name);
  return [...terms].sort((a, b) => Number(b === 'total') - Number(a === 'total'));
}

/**
 * One loss term of each run against epochs of training done (step s of epoch e: e - 1 + s / stepsPerEpoch),
 * as averages of consecutive steps, at most `maxPoints` per run; a step whose term was non-finite is left
 * out of its average (a bucket of only such steps gives no point).
 */
export function lossCurves(runs: readonly HistoryRun[], term: string, maxPoints = 200): CurvePoint[] {
  const points: CurvePoint[] = [];
  runs.forEach((run, i) => {
    const steps = run.steps.filter((s) => typeof s.terms[term] === 'number');
    const size = Math.max(1, Math.ceil(steps.length / maxPoints));
    for (let start = 0; start < steps.length; start += size) {
      const bucket = steps.slice(start, start + size);
      const last = bucket[bucket.length - 1]!;
      const mean = bucket.reduce((sum, s) => sum + s.terms[term]!, 0) / bucket.length;
      points.push({ epoch: last.epoch - 1 + last.step / last.stepsPerEpoch, [seriesKey(i)]: mean });
    }
  });
  return points.sort((a, b) => a.epoch - b.epoch);
}
