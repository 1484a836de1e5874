/**
 * Calibration: the expected calibration error over equal-width confidence bins (b/B, (b+1)/B], and the
 * reliability diagram's bins (Guo et al. 2017; docs/design.md). confidence = max softmax; correct = the top-1
 * prediction was right. Bin edges are computed as numpy's linspace(0, 1, B + 1) does, so an image on an edge
 * lands where the reference (reference/ood-metrics.json) puts it.
 */

export interface ReliabilityBin {
  /** (lower, upper]: the first bin also takes confidence 0. */
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Top-1 accuracy of the bin's images; NaN when it has none. */
  readonly accuracy: number;
  /** Mean confidence of the bin's images; NaN when it has none. */
  readonly confidence: number;
}

function binEdges(bins: number): number[] {
  const step = 1 / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : i * step));
}

/** The reliability diagram's bins. */
export function reliabilityBins(
  confidences: ArrayLike<number>,
  correct: ArrayLike<number | boolean>,
  bins = 15,
): ReliabilityBin[] {
  if (!(Number.isInteger(bins) && bins >= 1))
    throw new RangeError(`the number of bins must be a whole number >= 1; got ${bins}`);
  if (confidences.length !== correct.length)
    throw new RangeError(
      `calibration needs one correctness flag per confidence, got ${confidences.length} confidences and ${correct.length} flags`,
    );
  const edges = binEdges(bins);
  const counts = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const sums = new Float64Array(bins);
  for (let i = 0; i < confidences.length; i++) {
    const c = confidences[i]!;
    if (!(c >= 0 && c <= 1)) throw new RangeError(`confidence ${i} is ${c}, outside [0, 1]`);
    // The first edge above c; c on an edge belongs to the bin below it.
    let b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    while (b > 0 && c <= edges[b]!) b--;
    while (b < bins - 1 && c > edges[b + 1]!) b++;
    counts[b] = counts[b]! + 1;
    sums[b] = sums[b]! + c;
    if (correct[i]) hits[b] = hits[b]! + 1;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: edges[b]!,
    upper: edges[b + 1]!,
    count: counts[b]!,
    accuracy: counts[b] ? hits[b]! / counts[b]! : Number.NaN,
    confidence: counts[b] ? sums[b]! / counts[b]! : Number.NaN,
  }));
}

/** ECE = sum over bins of |accuracy - mean confidence| * n_bin / N. */
export function expectedCalibrationError(
  confidences: ArrayLike<number>,
  correct: ArrayLike<number | boolean>,
  bins = 15,
): number {
  if (confidences.length === 0) throw new RangeError('calibration needs at least one image');
  const total = confidences.length;
  return reliabilityBins(confidences, correct, bins).reduce(
    (ece, bin) => (bin.count ? ece + (Math.abs(bin.accuracy - bin.confidence) * bin.count) / total : ece),
    0,
  );
}
