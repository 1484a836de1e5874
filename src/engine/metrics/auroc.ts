/**
 * Area under the ROC curve for out-of-distribution detection. OoD samples are the positive class and a higher
 * score means "more likely OoD"; scores tied across the two sets count one half. Computed as the Mann-Whitney U
 * statistic with average ranks, in O(n log n): AUROC = (R_out - n_out (n_out + 1) / 2) / (n_in n_out), where
 * R_out is the sum of the OoD samples' ranks in the pooled, ascending order. This is the value that
 * scikit-learn 1.2's roc_auc_score gives (checked against `../distill/reference/losses-and-metrics.json`).
 */
export function auroc(inScores: ArrayLike<number>, outScores: ArrayLike<number>): number {
  const nIn = inScores.length;
  const nOut = outScores.length;
  if (nIn === 0 || nOut === 0)
    throw new RangeError(`AUROC needs scores from both sets, got ${nIn} in- and ${nOut} out-of-distribution`);
  const n = nIn + nOut;
  const scores = new Float64Array(n);
  for (let i = 0; i < nIn; i++) scores[i] = inScores[i]!;
  for (let i = 0; i < nOut; i++) scores[nIn + i] = outScores[i]!;
  for (let i = 0; i < n; i++)
    if (Number.isNaN(scores[i]!)) throw new RangeError(`AUROC got a NaN score at pooled index ${i}`);

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // A comparison rather than a difference, so that infinite scores sort too.
  order.sort((a, b) => (scores[a]! < scores[b]! ? -1 : scores[a]! > scores[b]! ? 1 : 0));

  // Walk runs of equal scores; each member of a run gets the run's average 1-based rank.
  let outRankSum = 0;
  for (let start = 0; start < n;) {
    const value = scores[order[start]!]!;
    let end = start + 1;
    while (end < n && scores[order[end]!] === value) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (order[k]! >= nIn) outRankSum += averageRank;
    start = end;
  }
  return (outRankSum - (nOut * (nOut + 1)) / 2) / (nIn * nOut);
}
