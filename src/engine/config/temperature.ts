/**
 * The temperature explorer's numbers, as pure functions over plain arrays of logits (no tfjs): the UI thread
 * imports them and recomputes everything from cached logits on every slider move. They follow the conventions
 * of `losses.ts` (KD soft term = T^2 * KL(softmax(t/T) || softmax(s/T)), natural log) and are tested against
 * `kdLoss` and the float64 reference values (`src/engine/distill/temperature.test.ts`). See docs/design.md section 3.
 *
 * Logits of many images are one flat array, `classes` values per image (row-major), as the Worker sends them.
 */

/** The explorer's temperature range: the KD methods' declared range for T. */
export const MIN_TEMPERATURE = 0.5;
export const MAX_TEMPERATURE = 20;

function checkTemperature(temperature: number): void {
  if (!(temperature > 0 && Number.isFinite(temperature)))
    throw new Error(`temperature must be a positive number; got ${String(temperature)}`);
}

function checkRows(logits: ArrayLike<number>, classes: number): number {
  if (!(Number.isInteger(classes) && classes > 0))
    throw new Error(`classes must be a positive whole number; got ${String(classes)}`);
  if (logits.length % classes !== 0)
    throw new Error(`${logits.length} logits are not a whole number of rows of ${classes} classes`);
  return logits.length / classes;
}

/**
 * log softmax(z / T) of `classes` logits starting at `offset`, into `out` (float64), with the maximum subtracted
 * first (no overflow at small T). No allocation: the split-wide loops call it once per image.
 */
function logSoftmaxInto(
  logits: ArrayLike<number>,
  offset: number,
  classes: number,
  temperature: number,
  out: Float64Array,
): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < classes; i++) max = Math.max(max, logits[offset + i]! / temperature);
  let sum = 0;
  for (let i = 0; i < classes; i++) {
    const shifted = logits[offset + i]! / temperature - max;
    out[i] = shifted;
    sum += Math.exp(shifted);
  }
  const logSum = Math.log(sum);
  for (let i = 0; i < classes; i++) out[i] = out[i]! - logSum;
  return out;
}

/** log softmax(z / T), in float64. */
export function logSoftmaxAt(logits: ArrayLike<number>, temperature: number): Float64Array {
  checkTemperature(temperature);
  return logSoftmaxInto(logits, 0, logits.length, temperature, new Float64Array(logits.length));
}

/** softmax(z / T): the soft targets at temperature T. */
export function softmaxAt(logits: ArrayLike<number>, temperature: number): Float64Array {
  return logSoftmaxAt(logits, temperature).map(Math.exp);
}

/** Shannon entropy -sum p log p in nats (0 log 0 = 0); ln(classes) at most. */
export function entropy(probabilities: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** Entropy of softmax(z / T), in nats, from the log-probabilities (no log of a rounded-to-zero p). */
export function entropyAt(logits: ArrayLike<number>, temperature: number): number {
  const logP = logSoftmaxAt(logits, temperature);
  let h = 0;
  for (const lp of logP) h -= Math.exp(lp) * lp;
  return h;
}

/** T^2 * KL(p_t || p_s) from log-probabilities (the sum over classes of one image). */
function scaledKl(logPt: Float64Array, logPs: Float64Array, classes: number, temperature: number): number {
  let kl = 0;
  for (let i = 0; i < classes; i++) kl += Math.exp(logPt[i]!) * (logPt[i]! - logPs[i]!);
  return temperature * temperature * kl;
}

/** KD's soft term for one image: T^2 * KL(softmax(t/T) || softmax(s/T)), as `kdLoss` computes it. */
export function kdSoftTerm(
  teacherLogits: ArrayLike<number>,
  studentLogits: ArrayLike<number>,
  temperature: number,
): number {
  if (teacherLogits.length !== studentLogits.length)
    throw new Error(
      `teacher and student logits must have as many classes; got ${teacherLogits.length} and ${studentLogits.length}`,
    );
  const classes = teacherLogits.length;
  return scaledKl(
    logSoftmaxAt(teacherLogits, temperature),
    logSoftmaxAt(studentLogits, temperature),
    classes,
    temperature,
  );
}

/** Row `index` of flat logits (a view, no copy). */
export function rowOf<T extends Float32Array | Float64Array>(logits: T, classes: number, index: number): T {
  return logits.subarray(index * classes, (index + 1) * classes) as T;
}

/** KD's soft term averaged over every image (the batch mean `kdLoss` takes), from flat logits. */
export function meanKdSoftTerm(
  teacherLogits: Float32Array,
  studentLogits: Float32Array,
  classes: number,
  temperature: number,
): number {
  const rows = checkRows(teacherLogits, classes);
  if (studentLogits.length !== teacherLogits.length)
    throw new Error(
      `teacher and student logits must cover the same images; got ${rows} and ${studentLogits.length / classes}`,
    );
  checkTemperature(temperature);
  if (rows === 0) return Number.NaN;
  const logPt = new Float64Array(classes);
  const logPs = new Float64Array(classes);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    logSoftmaxInto(teacherLogits, r * classes, classes, temperature, logPt);
    logSoftmaxInto(studentLogits, r * classes, classes, temperature, logPs);
    sum += scaledKl(logPt, logPs, classes, temperature);
  }
  return sum / rows;
}

/** A class with its probability. */
export interface ClassProbability {
  readonly classIndex: number;
  readonly probability: number;
}

/** Every class with its probability, most probable first (ties: lower class index first). */
export function rankClasses(probabilities: ArrayLike<number>): ClassProbability[] {
  return Array.from(probabilities, (probability, classIndex) => ({ classIndex, probability })).sort(
    (a, b) => b.probability - a.probability || a.classIndex - b.classIndex,
  );
}

/**
 * The "dark knowledge" of one distribution: the runner-up classes after the top one, with their
 * probabilities, as long as each holds at least `minProbability` (at most `count` of them).
 */
export function darkKnowledge(
  probabilities: ArrayLike<number>,
  count = 3,
  minProbability = 0.01,
): ClassProbability[] {
  return rankClasses(probabilities)
    .slice(1, 1 + count)
    .filter((c) => c.probability >= minProbability);
}

/**
 * The teacher's soft targets at T averaged per true class: a classes x classes row-major matrix whose row c is
 * the mean of softmax(z/T) over the images labelled c (each row sums to 1; NaN for a class with no images).
 */
export function classSimilarity(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  temperature: number,
): Float64Array {
  const rows = checkRows(logits, classes);
  if (labels.length !== rows)
    throw new Error(`expected ${rows} labels (one per row of logits), got ${labels.length}`);
  checkTemperature(temperature);
  const sums = new Float64Array(classes * classes);
  const counts = new Float64Array(classes);
  const logP = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    const label = labels[r]!;
    if (!(label >= 0 && label < classes)) throw new Error(`label ${label} of image ${r} is not a class`);
    logSoftmaxInto(logits, r * classes, classes, temperature, logP);
    const base = label * classes;
    for (let c = 0; c < classes; c++) sums[base + c] = sums[base + c]! + Math.exp(logP[c]!);
    counts[label] = counts[label]! + 1;
  }
  return sums.map((sum, i) => sum / counts[Math.floor(i / classes)]!);
}

/** `count` temperatures spread evenly on a log scale from `min` to `max` (both included). */
export function logTemperatures(min = MIN_TEMPERATURE, max = MAX_TEMPERATURE, count = 40): number[] {
  checkTemperature(min);
  checkTemperature(max);
  if (count < 2) return [min];
  const ratio = Math.log(max / min) / (count - 1);
  return Array.from({ length: count }, (_, i) => min * Math.exp(ratio * i));
}

/** The entropy of softmax(z / T) at each temperature: the curve the explorer draws. */
export const entropyCurve = (logits: ArrayLike<number>, temperatures: readonly number[]) =>
  temperatures.map((temperature) => ({ temperature, entropy: entropyAt(logits, temperature) }));

/**
 * The `count` images the teacher is least sure about: highest entropy of its softmax at T = 1, highest first
 * (ties: lower index first).
 */
export function mostUncertain(logits: Float32Array, classes: number, count: number): number[] {
  const rows = checkRows(logits, classes);
  const scored = Array.from({ length: rows }, (_, r) => ({
    r,
    h: entropyAt(rowOf(logits, classes, r), 1),
  }));
  return scored
    .sort((a, b) => b.h - a.h || a.r - b.r)
    .slice(0, count)
    .map((s) => s.r);
}

/** Top-1 accuracy of flat logits against labels (NaN for no images). */
export function accuracyOf(logits: Float32Array, labels: ArrayLike<number>, classes: number): number {
  const rows = checkRows(logits, classes);
  if (rows === 0) return Number.NaN;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const row = rowOf(logits, classes, r);
    let best = 0;
    for (let c = 1; c < classes; c++) if (row[c]! > row[best]!) best = c;
    if (best === labels[r]) correct++;
  }
  return correct / rows;
}
