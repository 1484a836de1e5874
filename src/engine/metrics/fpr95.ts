/**
 * FPR at 95% TPR for OoD detection: the share of out-of-distribution images still accepted when the threshold
 * accepts 95% of the in-distribution ones (higher score = more likely OoD; an image is accepted when its score
 * is at or below the threshold). The threshold is the smallest distinct score at which at least 95% of the
 * in-distribution images are accepted, as scikit-learn's roc_curve(y = 1 for ID, -score) gives it (checked
 * against reference/ood-metrics.json). Lower is better.
 */
import { orderBy, pooledScores } from './scoreArrays';

export function fpr95(inScores: ArrayLike<number>, outScores: ArrayLike<number>, tpr = 0.95): number {
  if (!(tpr > 0 && tpr <= 1)) throw new RangeError(`the true positive rate must be in (0, 1]; got ${tpr}`);
  const scores = pooledScores('FPR95', inScores, outScores);
  const nIn = inScores.length;
  const nOut = outScores.length;
  const order = orderBy(scores, false);
  let acceptedIn = 0;
  let acceptedOut = 0;
  for (let start = 0; start < order.length;) {
    const value = scores[order[start]!]!;
    let end = start;
    while (end < order.length && scores[order[end]!] === value) {
      if (order[end]! < nIn) acceptedIn++;
      else acceptedOut++;
      end++;
    }
    if (acceptedIn / nIn >= tpr) return acceptedOut / nOut;
    start = end;
  }
  return 1;
}
