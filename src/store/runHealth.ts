/**
 * Hints for a run that is clearly not learning, read from its logged steps: a student at the defaults should
 * never need them, but a learning rate typed by hand can make distillation look harmful without one word
 * saying why (issue "first minutes"; docs/defaults.md). Pure: the loss charts show what it returns.
 */
import type { StepLog } from '../worker/protocol';
import { globalStep } from './chartSeries';

export interface RunHint {
  readonly kind: 'at-chance' | 'spike';
  /** What happened, in a sentence. */
  readonly what: string;
  /** What to try. */
  readonly tryThis: string;
}

/** ln(10): the cross-entropy of a uniform guess over CIFAR-10's ten classes. */
export const CHANCE_CROSS_ENTROPY = Math.log(10);
/** Steps averaged to say where a loss stands, and the window a spike is measured against. */
const WINDOW = 20;
/** A step's total this many times the median of the steps before it is a spike. */
const SPIKE_FACTOR = 10;

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function learningHint(steps: readonly StepLog[]): RunHint | null {
  const totals = steps.map((s) => s.terms.total ?? Number.NaN);
  for (let i = WINDOW; i < steps.length; i++) {
    const before = median(totals.slice(i - WINDOW, i));
    if (Number.isFinite(totals[i]) && before > 0 && totals[i]! > SPIKE_FACTOR * before) {
      return {
        kind: 'spike',
        what: `The loss jumped ${(totals[i]! / before).toFixed(0)}x at step ${globalStep(steps[i]!)} (from about ${before.toFixed(2)} to ${totals[i]!.toFixed(2)}).`,
        tryThis:
          'The learning rate is too high for this model and loss: try half of it, or the defaults (Reset), which were measured to train smoothly.',
      };
    }
  }
  const last = steps.at(-1);
  if (
    last &&
    globalStep(last) >= last.stepsPerEpoch &&
    last.terms.ce !== undefined &&
    steps.length >= WINDOW
  ) {
    const recent = mean(steps.slice(-WINDOW).map((s) => s.terms.ce ?? Number.NaN));
    if (recent >= 0.95 * CHANCE_CROSS_ENTROPY) {
      return {
        kind: 'at-chance',
        what: `After an epoch the cross-entropy is still ${recent.toFixed(2)}, a uniform guess (ln 10 = 2.30): this run is not learning.`,
        tryThis:
          'A distillation term that overwhelms the labels at this learning rate does this (a small student without BatchNorm under KD at 0.05). Try a lower learning rate (the default for this student), or a smaller weight for the method.',
      };
    }
  }
  return null;
}
