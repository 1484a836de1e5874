/**
 * Area under the precision-recall curve for OoD detection, OoD the positive class, higher score = more likely
 * OoD: average precision exactly as scikit-learn 1.2's average_precision_score computes it,
 * AP = sum over distinct thresholds of (R_k - R_{k-1}) * P_k, scores tied at a threshold entering together
 * (no interpolation). Checked against reference/ood-metrics.json.
 */
import { orderBy, pooledScores } from './scoreArrays';

export function aupr(inScores: ArrayLike<number>, outScores: ArrayLike<number>): number {
  const scores = pooledScores('AUPR', inScores, outScores);
  const nIn = inScores.length;
  const nOut = outScores.length;
  const order = orderBy(scores, true);
  let truePositives = 0;
  let previousRecall = 0;
  let area = 0;
  for (let start = 0; start < order.length;) {
    const value = scores[order[start]!]!;
    let end = start;
    while (end < order.length && scores[order[end]!] === value) {
      if (order[end]! >= nIn) truePositives++;
      end++;
    }
    const recall = truePositives / nOut;
    area += (recall - previousRecall) * (truePositives / end);
    previousRecall = recall;
    start = end;
  }
  return area;
}
