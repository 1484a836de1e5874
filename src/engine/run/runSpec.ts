/**
 * What a run is asked for and the pieces it trains with. Every run of the lab is a method of the registry
 * applied to a model preset: plain training is the `ce` method (a teacher trained on labels is `ce` on a teacher
 * preset), distillation any other. The method instance supplies the loss (every named term) and its extra
 * parameters (AKD's masks with their own optimizer); the Trainer does the rest. LabRun (labRun.ts) drives the
 * pieces. See docs/design.md §9 (runs).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { ConfigError, parseTrainConfig, type TrainConfig } from '../training/hyperparams';
import { createOptimizer, initialTrainerState, Trainer, type TrainerState } from '../training/trainer';
import type { StoredAnchors } from '../training/checkpoint';
import type { DistillMethod, MethodInstance, MethodState, ParamValues } from '../distill/method';
import { MethodParamError, validateParams } from '../distill/method';
import { DISTILL_METHODS, findMethod } from '../distill/registry';
import { type TeacherHostFactory, TeacherAhead } from '../distill/teacherAhead';
import { coreForTeacher } from '../distill/teacherCore';
import { BASELINE_METHOD, type DistillMethodInfo } from '../config/methods';

export type { DistillMethodInfo } from '../config/methods';

/** Every method as the UI lists it: plain data, declared in each method's file (the UI builds controls from `params`). */
export const distillMethodInfos = (): DistillMethodInfo[] =>
  DISTILL_METHODS.map((method) => ({
    id: method.id,
    label: method.label,
    summary: method.summary,
    defaultsFrom: method.defaultsFrom,
    params: method.params.map((p) => ({ ...p })),
    learnsAnchorMasks: method.learnsAnchorMasks ?? false,
    needsTeacher: method.needsTeacher,
    setupNote: method.setupNote ?? null,
  }));

/** What a run is asked for: the method, its parameters (raw), the labels used, the model's training settings. */
export interface DistillConfig {
  readonly method: string;
  /** By parameter name; numbers or numeric strings; left-out ones take their defaults. */
  readonly params: Readonly<Record<string, number | string>>;
  /** Share of training labels used, class-balanced (1, 0.2, 0 in the lab). */
  readonly labelledFraction: number;
  /** The model's training settings; `model` must be a preset of `role` (a teacher trains only with `ce`). */
  readonly train: TrainConfig;
}

/** A checked DistillConfig: every parameter present and in range. */
export interface DistillSettings {
  readonly method: string;
  readonly params: ParamValues;
  readonly labelledFraction: number;
  readonly train: TrainConfig;
}

/** Bad distillation settings; the message lists every problem with its reason. */
export class DistillConfigError extends Error {
  override readonly name = 'DistillConfigError';
}

/**
 * Checks a distillation request with the engine's own reasons (validateParams, parseTrainConfig); throws
 * DistillConfigError listing every problem.
 */
export function parseDistillConfig(input: DistillConfig): DistillSettings {
  const problems: string[] = [];
  let method: DistillMethod | null = null;
  try {
    method = findMethod(input.method);
  } catch (error) {
    problems.push((error as Error).message);
  }
  let params: ParamValues = {};
  if (method) {
    try {
      params = validateParams(method, input.params);
    } catch (error) {
      if (!(error instanceof MethodParamError)) throw error;
      problems.push(error.message);
    }
  }
  const fraction = input.labelledFraction;
  if (!(typeof fraction === 'number' && fraction >= 0 && fraction <= 1))
    problems.push(`labelled fraction must be between 0 and 1; got ${String(fraction)}`);
  let train: TrainConfig | null = null;
  try {
    train = parseTrainConfig(input.train);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(error.message);
  }
  if (train) {
    try {
      const preset = findPreset(train.model);
      if (preset.role !== train.role)
        problems.push(`${preset.id} is a ${preset.role} model, not a ${train.role}`);
      else if (train.role === 'teacher' && method?.id !== BASELINE_METHOD)
        problems.push(`a teacher trains on labels (ce), not by ${method?.id ?? 'a distillation method'}`);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length || !method || !train) throw new DistillConfigError(problems.join('; '));
  return { method: method.id, params, labelledFraction: fraction, train };
}

/** The pieces of a distillation, ready to train: the caller runs `trainer` and calls `dispose` at the end. */
export interface Distillation {
  readonly student: tf.LayersModel;
  readonly instance: MethodInstance;
  readonly optimizer: tf.Optimizer;
  readonly trainer: Trainer;
  /** Seconds the method took to set up (AKD: choosing its anchors with the teacher over the training split). */
  readonly setupSeconds: number;
  /** Training records whose labels the run uses. */
  readonly labelledCount: number;
  /** Frees the method instance and the optimizer; `keepStudent` leaves the student model alive. */
  dispose(keepStudent?: boolean): void;
}

export interface DistillationOptions {
  /**
   * Where the teacher's pass can run beside the student's step (the browser's: a Worker; Node's: a worker
   * thread). Used on wasm where a core can be had for it (distill/teacherCore.ts).
   */
  readonly teacherHost?: TeacherHostFactory;
}

/** The teacher's pass on a host, where a core can be had for it (distill/teacherCore.ts); null: in line. */
async function teacherAheadOf(
  student: tf.LayersModel,
  instance: MethodInstance,
  host: TeacherHostFactory | undefined,
): Promise<TeacherAhead | null> {
  if (!host || !instance.teacher) return null;
  const core = coreForTeacher(student, instance.teacher.model);
  return core ? TeacherAhead.start(host, instance.teacher.model, instance.teacher.outputs, core) : null;
}

/** The teacher a distillation runs from, with its anchors on the run's training split when already known. */
export interface DistillTeacher {
  readonly model: tf.LayersModel;
  /** Stored with the teacher (docs/design.md §6, "Stored anchors"): AKD then needs no pass to choose them. */
  readonly knownAnchors?: StoredAnchors;
}

/** A checkpoint to continue from instead of a fresh, seeded model. */
export interface ResumeFrom {
  readonly model: tf.LayersModel;
  /** The optimizer's slots (momentum...); freed here once copied into the optimizer. */
  readonly optimizerSlots: { name: string; tensor: tf.Tensor }[];
  readonly state: TrainerState;
  readonly methodState: MethodState;
}

/**
 * Builds the model from its preset (seeded) or takes the checkpoint's, the method instance bound to it, the
 * teacher and the training split, and a Trainer over them. `teacher` may be null only for `ce`, which never
 * uses it. With `resume`, the optimizer's slots and the method's state are put back, so training goes on
 * exactly where the checkpoint stood.
 */
export async function createDistillation(
  settings: DistillSettings,
  dataset: Dataset,
  given: DistillTeacher | null,
  resume?: ResumeFrom,
  options: DistillationOptions = {},
): Promise<Distillation> {
  const teacher = given?.model ?? null;
  if (dataset.train.count === 0)
    throw new Error(`${dataset.name} has no training images; choose a dataset with a training split`);
  const method = findMethod(settings.method);
  if (!teacher && method.needsTeacher)
    throw new Error(
      `${method.label} needs a teacher; load the shipped teacher, import one, or train one in the Teacher panel`,
    );
  const { train: config } = settings;
  const student = resume?.model ?? findPreset(config.model).build(config.seed);
  const started = performance.now();
  let instance: MethodInstance;
  const optimizer = createOptimizer(config);
  try {
    instance = await method.create(
      {
        student,
        // `ce` never runs the teacher; the context only needs a model with the student's outputs.
        teacher: teacher ?? student,
        train: dataset.train,
        seed: config.seed,
        batchSize: config.batchSize,
        labelledFraction: settings.labelledFraction,
        weightDecay: config.weightDecay,
        ...(given?.knownAnchors ? { knownAnchors: given.knownAnchors } : {}),
      },
      settings.params,
    );
    if (resume) {
      if (Object.keys(resume.methodState).length) {
        if (!instance.restore) throw new Error(`${method.label} keeps no state, but the checkpoint has some`);
        instance.restore(resume.methodState);
      }
      await optimizer.setWeights(resume.optimizerSlots);
    }
  } catch (error) {
    student.dispose();
    optimizer.dispose();
    throw error;
  } finally {
    // setWeights makes variables of its own from these tensors.
    for (const { tensor } of resume?.optimizerSlots ?? []) tensor.dispose();
  }
  const setupSeconds = (performance.now() - started) / 1000;
  const trainer = new Trainer(
    student,
    config,
    dataset,
    optimizer,
    instance.loss,
    resume?.state ?? initialTrainerState(),
    instance.extra,
  );
  const ahead = await teacherAheadOf(student, instance, options.teacherHost);
  trainer.teacherAhead = ahead;
  let disposed = false;
  return {
    student,
    instance,
    optimizer,
    trainer,
    setupSeconds,
    labelledCount: instance.labelled.reduce((n, l) => n + l, 0),
    dispose(keepStudent = false) {
      if (!disposed) {
        disposed = true;
        ahead?.close();
        instance.dispose();
        optimizer.dispose();
      }
      if (!keepStudent) student.dispose();
    },
  };
}
