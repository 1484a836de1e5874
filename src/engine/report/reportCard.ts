/**
 * The compression report card of a teacher/student pair (issue 12): what the student costs and keeps. Per model:
 * parameters, multiply-adds and FLOPs per image, the bytes of its saved weights, the measured inference latency
 * per image at batch 1 and 64 on the active backend, and top-1 on a test split; for the pair: accuracy
 * retention, compression and speed-up. Used by the CLI (`report`) and the Worker (the report card panel).
 *
 * FLOPs convention: one multiply-add = 2 FLOPs, counted for convolutions and dense layers from their shapes
 * (models/presets.ts flopsPerImage, the number the preset pickers show); BatchNorm, activations, pooling and
 * additions are not counted. Latency: the time from handing a batch of real test images to the model (inference
 * mode) to having its logits back on the CPU, per image; warm-up runs are left out and the median of the timed
 * runs is taken.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../data/cifar10';
import { flopsPerImage } from '../models/presets';
import { CHECKPOINT_FILES, modelFiles, modelMetadata } from '../training/checkpoint';
import { evaluateModel } from '../training/trainer';
import { makeBatch } from '../training/batches';

export const FLOPS_CONVENTION =
  '1 multiply-add = 2 FLOPs; convolutions and dense layers only (BatchNorm, activations, pooling and additions not counted)';

/** The batch sizes whose latency the card measures. */
export const LATENCY_BATCHES = [1, 64] as const;
export type LatencyBatch = `batch${(typeof LATENCY_BATCHES)[number]}`;
export type PerBatch = Readonly<Record<LatencyBatch, number>>;

/**
 * Layer classes with weights that the count covers: Conv2D and Dense counted, BatchNorm left out by the
 * convention; any other layer with weights is named in `uncountedLayers`.
 */
const ACCOUNTED = new Set(['Conv2D', 'Dense', 'BatchNormalization']);

const DEFAULT_WARMUP = 2;
const DEFAULT_REPEATS = 9;

export interface ModelReport {
  readonly name: string;
  readonly preset: string;
  /** Every weight, BatchNorm's moving statistics included (as the preset pickers count). */
  readonly parameters: number;
  readonly trainableParameters: number;
  readonly multiplyAddsPerImage: number;
  /** 2 x multiplyAddsPerImage (FLOPS_CONVENTION). */
  readonly flopsPerImage: number;
  /** Bytes of weights.bin as the lab saves the model (float32). */
  readonly weightBytes: number;
  /** Bytes of model.json as the lab saves it (topology and metadata). */
  readonly modelJsonBytes: number;
  /** Milliseconds per image: the median timed run of a batch, divided by the batch size. */
  readonly latencyMsPerImage: PerBatch;
  /** Top-1 on the test split. */
  readonly testAccuracy: number;
  /** Layers with weights whose arithmetic the count leaves out (none for the lab's presets). */
  readonly uncountedLayers: readonly string[];
}

export interface ReportCard {
  readonly kind: 'report';
  readonly flopsConvention: string;
  readonly backend: string;
  readonly testImages: number;
  readonly latency: { readonly warmup: number; readonly repeats: number };
  readonly teacher: ModelReport;
  readonly student: ModelReport;
  /** Student accuracy / teacher accuracy. */
  readonly retention: number;
  /** Teacher weight bytes / student weight bytes. */
  readonly compression: number;
  /** Teacher parameters / student parameters. */
  readonly parameterRatio: number;
  /** Teacher FLOPs / student FLOPs. */
  readonly flopsRatio: number;
  /** Teacher latency per image / student latency per image. */
  readonly speedup: PerBatch;
}

/** A model to report on. */
export interface ReportSubject {
  readonly model: tf.LayersModel;
  readonly name: string;
  readonly preset: string;
  readonly role: 'teacher' | 'student';
}

export interface ReportOptions {
  /** Untimed runs before the timed ones, per batch size (kernel set-up, XNNPACK packing, shader compiles). */
  readonly warmup?: number;
  /** Timed runs per batch size; the median is kept. */
  readonly repeats?: number;
  /** Milliseconds clock (tests may pass their own). */
  readonly now?: () => number;
}

export function median(values: readonly number[]): number {
  if (!values.length) throw new RangeError('the median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Parameters, multiply-adds and FLOPs of a model, from its layer shapes. */
export function modelCost(model: tf.LayersModel) {
  const flops = flopsPerImage(model);
  return {
    parameters: model.countParams(),
    trainableParameters: model.trainableWeights.reduce(
      (n, w) => n + tf.util.sizeFromShape(w.shape as number[]),
      0,
    ),
    multiplyAddsPerImage: flops / 2,
    flopsPerImage: flops,
    uncountedLayers: model.layers
      .filter((l) => l.getWeights().length > 0 && !ACCOUNTED.has(l.getClassName()))
      .map((l) => `${l.name} (${l.getClassName()})`),
  };
}

/** Bytes of the model's weights.bin and model.json as the lab saves them. */
export async function savedSizes(subject: ReportSubject) {
  const files = await modelFiles(subject.model, modelMetadata(subject.model, subject.preset, subject.role));
  const size = (file: Uint8Array | string | undefined) =>
    typeof file === 'string' ? new TextEncoder().encode(file).byteLength : (file?.byteLength ?? 0);
  return {
    weightBytes: size(files[CHECKPOINT_FILES.weights]),
    modelJsonBytes: size(files[CHECKPOINT_FILES.model]),
  };
}

/**
 * Milliseconds per image at one batch size: `warmup` untimed runs, then the median of `repeats` timed runs of
 * the first `batch` test images (repeated when the split is smaller), logits read back each run.
 */
export async function latencyPerImage(
  model: tf.LayersModel,
  test: ImageSplit,
  batch: number,
  { warmup = DEFAULT_WARMUP, repeats = DEFAULT_REPEATS, now = () => performance.now() }: ReportOptions = {},
): Promise<number> {
  if (test.count === 0) throw new Error('the test split is empty: no images to time the models on');
  if (!(Number.isInteger(repeats) && repeats >= 1))
    throw new RangeError(`repeats must be a whole number of at least 1; got ${repeats}`);
  const indices = Array.from({ length: batch }, (_, i) => i % test.count);
  const input = tf.tensor4d(makeBatch(test, indices), [batch, 32, 32, 3]);
  const once = async () => {
    const started = now();
    const logits = tf.tidy(() => (model.apply(input, { training: false }) as tf.Tensor[])[0]!);
    await logits.data();
    const elapsed = now() - started;
    logits.dispose();
    return elapsed;
  };
  try {
    for (let i = 0; i < warmup; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await once());
    return median(times) / batch;
  } finally {
    input.dispose();
  }
}

/** One model's row of the card. */
export async function modelReport(
  subject: ReportSubject,
  test: ImageSplit,
  options: ReportOptions = {},
): Promise<ModelReport> {
  const latency: Partial<Record<LatencyBatch, number>> = {};
  for (const batch of LATENCY_BATCHES)
    latency[`batch${batch}`] = await latencyPerImage(subject.model, test, batch, options);
  const { accuracy } = await evaluateModel(subject.model, test);
  return {
    name: subject.name,
    preset: subject.preset,
    ...modelCost(subject.model),
    ...(await savedSizes(subject)),
    latencyMsPerImage: latency as PerBatch,
    testAccuracy: accuracy,
  };
}

/** The pair's ratios from the two rows (teacher over student, except retention: student over teacher). */
export function compareReports(teacher: ModelReport, student: ModelReport) {
  const perBatch = (f: (b: LatencyBatch) => number) =>
    Object.fromEntries(LATENCY_BATCHES.map((b) => [`batch${b}`, f(`batch${b}`)])) as PerBatch;
  return {
    retention: student.testAccuracy / teacher.testAccuracy,
    compression: teacher.weightBytes / student.weightBytes,
    parameterRatio: teacher.parameters / student.parameters,
    flopsRatio: teacher.flopsPerImage / student.flopsPerImage,
    speedup: perBatch((b) => teacher.latencyMsPerImage[b] / student.latencyMsPerImage[b]),
  };
}

/** The whole card: both rows measured one after the other on the active backend, then the ratios. */
export async function reportCard(
  teacher: ReportSubject,
  student: ReportSubject,
  test: ImageSplit,
  options: ReportOptions = {},
): Promise<ReportCard> {
  const teacherRow = await modelReport(teacher, test, options);
  const studentRow = await modelReport(student, test, options);
  return {
    kind: 'report',
    flopsConvention: FLOPS_CONVENTION,
    backend: tf.getBackend(),
    testImages: test.count,
    latency: { warmup: options.warmup ?? DEFAULT_WARMUP, repeats: options.repeats ?? DEFAULT_REPEATS },
    teacher: teacherRow,
    student: studentRow,
    ...compareReports(teacherRow, studentRow),
  };
}
