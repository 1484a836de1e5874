/**
 * What the trust panel shows, computed from per-image outputs (scoreImages.ts), as plain data: per score the
 * detection metrics (AUROC, AUPR, FPR95), histograms of in- vs out-of-distribution scores on shared bins as
 * densities, and ROC curves; calibration (ECE, reliability bins); misclassification detection (wrong = the
 * positive class); and teacher-student fidelity (top-1 agreement, mean KL(teacher || student), as Stanton et
 * al. 2021 measure it). No tfjs: float64 on the CPU over a few thousand numbers.
 */
import { aupr } from '../metrics/aupr';
import { auroc } from '../metrics/auroc';
import { expectedCalibrationError, type ReliabilityBin, reliabilityBins } from '../metrics/calibration';
import { fpr95 } from '../metrics/fpr95';
import type { ImageScores, OodScore } from './scoreImages';

export interface DetectionMetrics {
  readonly auroc: number;
  readonly aupr: number;
  readonly fpr95: number;
}

export function detectionMetrics(
  inScores: ArrayLike<number>,
  outScores: ArrayLike<number>,
): DetectionMetrics {
  return {
    auroc: auroc(inScores, outScores),
    aupr: aupr(inScores, outScores),
    fpr95: fpr95(inScores, outScores),
  };
}

export interface HistogramBin {
  readonly from: number;
  readonly to: number;
  /** Density of each set in the bin: share of the set's images / bin width (each integrates to 1). */
  readonly inDensity: number;
  readonly outDensity: number;
}

/** Both sets on the same `bins` equal-width bins over their pooled range (finite scores only). */
export function sharedHistogram(
  inScores: ArrayLike<number>,
  outScores: ArrayLike<number>,
  bins = 30,
): HistogramBin[] {
  let low = Infinity;
  let high = -Infinity;
  for (const set of [inScores, outScores])
    for (let i = 0; i < set.length; i++) {
      const v = set[i]!;
      if (!Number.isFinite(v)) continue;
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
  if (!(high >= low)) return [];
  if (high === low) high = low + 1;
  const width = (high - low) / bins;
  const count = (set: ArrayLike<number>) => {
    const counts = new Float64Array(bins);
    let n = 0;
    for (let i = 0; i < set.length; i++) {
      const v = set[i]!;
      if (!Number.isFinite(v)) continue;
      const b = Math.min(bins - 1, Math.floor((v - low) / width));
      counts[b] = counts[b]! + 1;
      n++;
    }
    return counts.map((c) => (n ? c / (n * width) : 0));
  };
  const inD = count(inScores);
  const outD = count(outScores);
  return Array.from({ length: bins }, (_, b) => ({
    from: low + b * width,
    to: b === bins - 1 ? high : low + (b + 1) * width,
    inDensity: inD[b]!,
    outDensity: outD[b]!,
  }));
}

/**
 * The ROC curve (x = FPR, y = TPR, OoD positive), one point per distinct threshold from (0, 0) to (1, 1),
 * thinned to at most `maxPoints` for drawing (the end points always kept).
 */
export function rocCurve(
  inScores: ArrayLike<number>,
  outScores: ArrayLike<number>,
  maxPoints = 200,
): [number, number][] {
  const pooled = [
    ...Array.from(inScores, (s) => ({ s, out: false })),
    ...Array.from(outScores, (s) => ({ s, out: true })),
  ].sort((a, b) => (a.s > b.s ? -1 : a.s < b.s ? 1 : 0));
  const points: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < pooled.length; i++) {
    if (pooled[i]!.out) tp++;
    else fp++;
    if (i + 1 === pooled.length || pooled[i + 1]!.s !== pooled[i]!.s)
      points.push([fp / Math.max(1, inScores.length), tp / Math.max(1, outScores.length)]);
  }
  if (points.length <= maxPoints) return points;
  const step = (points.length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, k) => points[Math.round(k * step)]!);
}

/** Top-1 class of each image and the probability it got (max softmax), in float64. */
function softmaxRows(outputs: ImageScores): { predicted: Uint16Array; probabilities: Float64Array } {
  const { count, classes, logits } = outputs;
  const predicted = new Uint16Array(count);
  const probabilities = new Float64Array(count * classes);
  for (let i = 0; i < count; i++) {
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[i * classes + c]!;
      if (v > max) {
        max = v;
        arg = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[i * classes + c]! - max);
    for (let c = 0; c < classes; c++)
      probabilities[i * classes + c] = Math.exp(logits[i * classes + c]! - max) / sum;
    predicted[i] = arg;
  }
  return { predicted, probabilities };
}

export interface Calibration {
  readonly accuracy: number;
  readonly ece: number;
  readonly bins: ReliabilityBin[];
}

/** Accuracy, 15-bin ECE and the reliability bins of a model on labelled images. */
export function calibration(outputs: ImageScores, labels: ArrayLike<number>, bins = 15): Calibration {
  if (labels.length !== outputs.count)
    throw new RangeError(`calibration needs one label per image, got ${labels.length} for ${outputs.count}`);
  const { predicted, probabilities } = softmaxRows(outputs);
  const confidences = Array.from(predicted, (p, i) => probabilities[i * outputs.classes + p]!);
  const correct = Array.from(predicted, (p, i) => (p === labels[i] ? 1 : 0));
  return {
    accuracy: correct.reduce((n: number, c) => n + c, 0) / Math.max(1, correct.length),
    ece: expectedCalibrationError(confidences, correct, bins),
    bins: reliabilityBins(confidences, correct, bins),
  };
}

/**
 * Misclassification detection: AUROC of a score at telling wrong predictions (positive) from right ones. NaN
 * when every prediction is right or every one wrong.
 */
export function misclassificationAuroc(
  outputs: ImageScores,
  labels: ArrayLike<number>,
  score: OodScore,
): number {
  const { predicted } = softmaxRows(outputs);
  const right: number[] = [];
  const wrong: number[] = [];
  predicted.forEach((p, i) => (p === labels[i] ? right : wrong).push(outputs.scores[score][i]!));
  return right.length && wrong.length ? auroc(right, wrong) : Number.NaN;
}

export interface Fidelity {
  /** Share of images where the student's top-1 class is the teacher's. */
  readonly agreement: number;
  /** Mean over images of KL(softmax(teacher) || softmax(student)), natural log. */
  readonly meanKl: number;
}

export function fidelity(teacher: ImageScores, student: ImageScores): Fidelity {
  if (teacher.count !== student.count || teacher.classes !== student.classes)
    throw new RangeError(
      `fidelity needs the same images and classes, got ${teacher.count}x${teacher.classes} and ${student.count}x${student.classes}`,
    );
  const t = softmaxRows(teacher);
  const s = softmaxRows(student);
  let agree = 0;
  let kl = 0;
  const k = teacher.classes;
  for (let i = 0; i < teacher.count; i++) {
    if (t.predicted[i] === s.predicted[i]) agree++;
    for (let c = 0; c < k; c++) {
      const p = t.probabilities[i * k + c]!;
      // Logs from the logits: a probability that underflows to 0 in the student still gives a finite KL.
      if (p > 0) kl += p * (logSoftmaxAt(teacher, i, c) - logSoftmaxAt(student, i, c));
    }
  }
  return { agreement: agree / teacher.count, meanKl: kl / teacher.count };
}

function logSoftmaxAt(outputs: ImageScores, image: number, c: number): number {
  const { classes, logits } = outputs;
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, logits[image * classes + j]!);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(logits[image * classes + j]! - max);
  return logits[image * classes + c]! - max - Math.log(sum);
}
