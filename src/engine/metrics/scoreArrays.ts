/** Input checks shared by the array metrics (auroc, aupr, fpr95): both sets present, no NaN. */
export function pooledScores(
  metric: string,
  inScores: ArrayLike<number>,
  outScores: ArrayLike<number>,
): Float64Array {
  const nIn = inScores.length;
  const nOut = outScores.length;
  if (nIn === 0 || nOut === 0)
    throw new RangeError(
      `${metric} needs scores from both sets, got ${nIn} in- and ${nOut} out-of-distribution`,
    );
  const scores = new Float64Array(nIn + nOut);
  for (let i = 0; i < nIn; i++) scores[i] = inScores[i]!;
  for (let i = 0; i < nOut; i++) scores[nIn + i] = outScores[i]!;
  for (let i = 0; i < scores.length; i++)
    if (Number.isNaN(scores[i]!)) throw new RangeError(`${metric} got a NaN score at pooled index ${i}`);
  return scores;
}

/** Pooled indices sorted by score, descending when `descending`; a comparison so that infinities sort too. */
export function orderBy(scores: Float64Array, descending: boolean): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const sign = descending ? -1 : 1;
  order.sort((a, b) => sign * (scores[a]! < scores[b]! ? -1 : scores[a]! > scores[b]! ? 1 : 0));
  return order;
}
