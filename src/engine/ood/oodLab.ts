/**
 * The trust panel's engine side (docs/design.md, "Out-of-distribution and calibration"): the OoD sets, the
 * per-(model, set) outputs cache, anchors for u(x), and one run at a time with progress and Cancel. The
 * session hands it the models (teacher, students of the visit); everything else is here.
 *
 * Anchors: a model with its own anchors (an AKD run's) uses them, unmasked, through its own features (the
 * authors' estimate); every other model uses the teacher's anchors chosen by the same rule (1 per class by
 * centrality of the teacher's features over the training split), through its own features.
 */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, DatasetError, type ImageSplit } from '../data/cifar10';
import type { UploadedFile } from '../data/upload';
import { recordImages, selectAnchors } from '../distill/anchors';
import { type FrozenTeacher, freezeTeacher } from '../distill/frozenTeacher';
import { passRows, type TeacherPass } from '../distill/teacherPasses';
import {
  BUILT_IN_NAMES,
  BUILT_IN_OOD_SETS,
  MNIST_OOD_FILE,
  mnistSet,
  noiseSet,
  oodSetFromFiles,
} from './oodSets';
import {
  calibration,
  detectionMetrics,
  fidelity,
  misclassificationAuroc,
  rocCurve,
  sharedHistogram,
} from './oodReport';
import { featuresOf, type ImageScores, OOD_SCORES, SCORE_LABELS, scoreImages } from './scoreImages';
import type { OodModelResult, OodResult, OodRow, OodSetInfo } from './oodTypes';
import type { RunLane } from '../run/runTypes';

/** A model the panel can score, as the session lists it. */
export interface OodModel {
  /** Changes whenever the weights may have changed (identity + run position). */
  readonly key: string;
  readonly label: string;
  readonly role: 'teacher' | 'student';
  /** The panel whose run this model is (OodModelInfo.lane); none for a fixed teacher or a kept copy. */
  readonly lane?: RunLane;
  readonly model: tf.LayersModel;
  /** Training-split record indices of its own anchors (an AKD run's); null: the teacher's, by the same rule. */
  readonly ownAnchors: readonly number[] | null;
}

export interface OodRequest {
  /** Model keys, as listed. */
  readonly models: readonly string[];
  /** OoD set ids: mnist, gaussian, uniform, upload:N. */
  readonly sets: readonly string[];
}

/**
 * Picks the anchors of a model without its own: 1 per class by centrality of `chooser`'s features over the
 * training split (the teacher's, or the model's own without a teacher); reports records done of all.
 */
export type AnchorChooser = (
  chooser: OodModel,
  train: ImageSplit,
  onProgress: (done: number, total: number) => void,
) => Promise<readonly number[]>;

export const selectByRule: AnchorChooser = async (chooser, train) =>
  (await selectAnchors(chooser.model, train, { perClass: 1 })).indices;

/**
 * A model's outputs on a split from a pass shared with the rest of the session (the current teacher's:
 * distill/teacherPasses.ts), or null when there is none for it and the panel runs the model itself.
 */
export type SharedOutputs = (
  model: OodModel,
  split: ImageSplit,
  onProgress: (done: number, total: number) => void,
) => Promise<TeacherPass | null> | null;

export interface OodProgress {
  readonly stage: string;
  readonly done: number;
  readonly total: number;
}

/** Where a teacher's anchors came from: stored with it (its model.json), or chosen from a pass in this lab. */
export type AnchorSource = 'stored' | 'chosen';
const ANCHOR_SOURCE_TEXT: Record<AnchorSource, string> = {
  stored: 'stored with the teacher',
  chosen: 'chosen afresh',
};

/** Seed of the noise sets: fixed, so every model meets the same noise. */
const NOISE_SEED = 0;
/** Image cap of the built-in sets: the full test split's size. */
const MAX_BUILT_IN = 10_000;

class OodCancelled extends Error {}

export class OodLab {
  private readonly uploads = new Map<string, { name: string; split: ImageSplit }>();
  private uploadCount = 0;
  private mnistBytes: Uint8Array | null = null;
  private readonly outputs = new Map<string, ImageScores>();
  /** Anchors of models without their own, by chooser key and dataset id, with how they were had. */
  private readonly teacherAnchors = new Map<string, { indices: readonly number[]; source: AnchorSource }>();
  private running = false;
  private cancelRequested = false;

  constructor(
    private readonly readPreparedFile: (path: string) => Promise<Uint8Array>,
    private readonly sharedOutputs: SharedOutputs = () => null,
  ) {}

  /**
   * Anchors already known for `chooser` on a dataset (stored with the teacher), so that a run does not choose
   * them again with a pass over every training image; `source` says where they came from.
   */
  knowAnchors(chooser: OodModel, datasetId: string, indices: readonly number[], source: AnchorSource): void {
    this.teacherAnchors.set(`${chooser.key}|${datasetId}`, { indices, source });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Asks the run in flight to end between batches; it then resolves null. */
  cancel(): void {
    if (this.running) this.cancelRequested = true;
  }

  /** The sets to choose from, with their sizes against a test split of `testCount` images. */
  sets(testCount: number): OodSetInfo[] {
    const builtIn = BUILT_IN_OOD_SETS.map((id) => ({
      id,
      name: BUILT_IN_NAMES[id],
      // MNIST's prepared file has 10,000 digits; the noise sets match the test split.
      count: Math.min(testCount, MAX_BUILT_IN),
      uploaded: false,
    }));
    const uploaded = [...this.uploads].map(([id, { name, split }]) => ({
      id,
      name,
      count: split.count,
      uploaded: true,
    }));
    return [...builtIn, ...uploaded];
  }

  /** Adds an uploaded set; a bad file throws DatasetError naming it, and the sets already there stay. */
  addUpload(files: readonly UploadedFile[]): OodSetInfo {
    const { name, split } = oodSetFromFiles(files);
    this.uploadCount += 1;
    const id = `upload:${this.uploadCount}`;
    this.uploads.set(id, { name, split });
    return { id, name, count: split.count, uploaded: true };
  }

  private async setImages(id: string, testCount: number): Promise<ImageSplit> {
    const count = Math.min(testCount, MAX_BUILT_IN);
    if (id === 'mnist') {
      this.mnistBytes ??= await this.readPreparedFile(MNIST_OOD_FILE);
      return mnistSet(this.mnistBytes, count);
    }
    if (id === 'gaussian' || id === 'uniform') return noiseSet(id, count, NOISE_SEED);
    const upload = this.uploads.get(id);
    if (!upload)
      throw new Error(
        `unknown OoD set "${id}"; sets: ${this.sets(testCount)
          .map((s) => s.id)
          .join(', ')}`,
      );
    return upload.split;
  }

  /**
   * Scores the chosen models on the test split and the chosen OoD sets (cached per model and set) and
   * reports every view's numbers. Null when cancelled.
   */
  async run(
    request: OodRequest,
    available: readonly OodModel[],
    teacher: OodModel | null,
    dataset: Dataset,
    onProgress: (progress: OodProgress) => void,
    yieldToHost: () => Promise<void>,
    chooseAnchors: AnchorChooser = selectByRule,
  ): Promise<OodResult | null> {
    if (this.running) throw new Error('an OoD analysis is already running');
    if (dataset.test.count === 0) throw new DatasetError(`${dataset.name} has no test images to score`);
    if (request.models.length === 0) throw new Error('choose at least one model');
    if (request.sets.length === 0) throw new Error('choose at least one out-of-distribution set');
    const models = request.models.map((key) => {
      const model = available.find((m) => m.key === key);
      if (!model)
        throw new Error(`that model is no longer there (it was replaced or went on training); pick again`);
      return model;
    });
    const started = performance.now();
    this.running = true;
    this.cancelRequested = false;
    try {
      const sets = await Promise.all(
        request.sets.map(async (id) => ({ id, split: await this.setImages(id, dataset.test.count) })),
      );
      // Teacher outputs on the test split too, for each student's fidelity.
      const jobs: { model: OodModel; set: string; split: ImageSplit }[] = [];
      const needed = new Set<string>();
      const want = (model: OodModel, set: string, split: ImageSplit) => {
        const key = this.cacheKey(model, dataset, set);
        if (this.outputs.has(key) || needed.has(key)) return;
        needed.add(key);
        jobs.push({ model, set, split });
      };
      const scoredModels =
        teacher && models.some((m) => m.role === 'student') ? [...models, teacher] : models;
      for (const model of scoredModels) {
        want(model, 'test', dataset.test);
        if (models.includes(model)) for (const { id, split } of sets) want(model, id, split);
      }
      const anchorKey = teacher ? `${teacher.key}|${dataset.id}` : null;
      const needTeacherAnchors =
        jobs.some((j) => j.model.ownAnchors === null) && !(anchorKey && this.teacherAnchors.has(anchorKey));
      const total =
        jobs.reduce((n, j) => n + j.split.count, 0) + (needTeacherAnchors ? dataset.train.count : 0);
      let done = 0;
      const report = (stage: string) => onProgress({ stage, done, total });
      const stop = () => this.cancelRequested;
      report('starting');

      const anchorsOf = async (model: OodModel): Promise<readonly number[]> => {
        if (model.ownAnchors) return model.ownAnchors;
        // Without a teacher, a student's own features pick its anchors by the same rule.
        const chooser = teacher ?? model;
        const key = `${chooser.key}|${dataset.id}`;
        let indices = this.teacherAnchors.get(key)?.indices;
        if (!indices) {
          const stage = `choosing anchors with ${chooser.label}`;
          const base = done;
          report(stage);
          indices = await chooseAnchors(chooser, dataset.train, (n) => {
            // Cancel reaches into a long anchor pass too (the chooser frees its batch before reporting).
            if (stop()) throw new OodCancelled();
            done = base + n;
            report(stage);
          });
          if (stop()) throw new OodCancelled();
          done = base + dataset.train.count;
          this.teacherAnchors.set(key, { indices, source: 'chosen' });
        }
        return indices;
      };

      for (const job of jobs) {
        const indices = await anchorsOf(job.model);
        const anchorFeatures = tf.tidy(() =>
          featuresOf(job.model.model, recordImages(dataset.train, [...indices])),
        );
        const base = done;
        const stage = `${job.model.label} on ${job.set === 'test' ? 'the test split' : job.set}`;
        let outputs: ImageScores | null;
        let frozen: FrozenTeacher | null = null;
        try {
          report(stage);
          // The teacher's outputs may come from the session's shared pass (run now if it is not done yet).
          const shared = await this.sharedOutputs(job.model, job.split, (n) => {
            if (stop()) throw new OodCancelled();
            done = base + n;
            report(stage);
          });
          // Conv + BatchNorm folded into one conv: the same outputs up to rounding, fewer passes (frozenTeacher.ts).
          if (!shared) frozen = freezeTeacher(job.model.model);
          const run = frozen;
          outputs = await scoreImages(job.model.model, job.split, anchorFeatures, {
            shouldStop: stop,
            yieldToHost,
            ...(shared
              ? { computed: (start, end) => passRows(shared, start, end) }
              : { forward: (images) => run!.run(images) }),
            onBatch: (n) => {
              // A shared pass already counted these images while it ran.
              if (!shared) done = base + n;
              report(stage);
            },
          });
        } finally {
          anchorFeatures.dispose();
          frozen?.dispose();
        }
        if (!outputs) throw new OodCancelled();
        this.outputs.set(this.cacheKey(job.model, dataset, job.set), outputs);
      }
      return this.assemble(
        models,
        teacher,
        sets.map((s) => s.id),
        dataset,
        started,
      );
    } catch (error) {
      if (error instanceof OodCancelled) return null;
      throw error;
    } finally {
      this.running = false;
      this.cancelRequested = false;
    }
  }

  /** A model's per-image outputs on a set ('test' or an OoD set id) once a run has scored them. */
  outputsOf(model: OodModel, dataset: Dataset, set: string): ImageScores | null {
    return this.outputs.get(this.cacheKey(model, dataset, set)) ?? null;
  }

  /** Which anchors u(x) used for a model, in words, with their number. */
  private anchorsText(model: OodModel, teacher: OodModel | null, dataset: Dataset): string {
    if (model.ownAnchors)
      return `its own AKD anchors (${model.ownAnchors.length}, unmasked, through its features)`;
    const known = this.teacherAnchors.get(`${(teacher ?? model).key}|${dataset.id}`);
    const count = `${known?.indices.length ?? 0}, ${known ? ANCHOR_SOURCE_TEXT[known.source] : 'not chosen yet'}`;
    return teacher
      ? `1 per class by centrality of the teacher's features over the training split (${count}), through this model's features`
      : `1 per class by centrality of this model's own features over the training split (${count}; no teacher loaded)`;
  }

  private cacheKey(model: OodModel, dataset: Dataset, set: string): string {
    return `${model.key}|${dataset.id}|${set}`;
  }

  private assemble(
    models: readonly OodModel[],
    teacher: OodModel | null,
    setIds: readonly string[],
    dataset: Dataset,
    started: number,
  ): OodResult {
    const labels = dataset.test.labels;
    const output = (model: OodModel, set: string) => this.outputs.get(this.cacheKey(model, dataset, set))!;
    const teacherTest = teacher ? this.outputs.get(this.cacheKey(teacher, dataset, 'test')) : undefined;
    const modelResults: OodModelResult[] = models.map((model) => {
      const test = output(model, 'test');
      const calib = calibration(test, labels);
      return {
        key: model.key,
        label: model.label,
        role: model.role,
        lane: model.lane,
        anchors: this.anchorsText(model, teacher, dataset),
        accuracy: calib.accuracy,
        ece: calib.ece,
        reliability: calib.bins,
        fidelity: model.role === 'student' && teacherTest ? fidelity(teacherTest, test) : null,
        misclassification: Object.fromEntries(
          OOD_SCORES.map((s) => [s, misclassificationAuroc(test, labels, s)]),
        ) as OodModelResult['misclassification'],
      };
    });
    const rows: OodRow[] = [];
    for (const model of models)
      for (const set of setIds)
        for (const score of OOD_SCORES) {
          const inScores = output(model, 'test').scores[score];
          const outScores = output(model, set).scores[score];
          rows.push({
            model: model.key,
            set,
            score,
            ...detectionMetrics(inScores, outScores),
            histogram: sharedHistogram(inScores, outScores),
            roc: rocCurve(inScores, outScores),
          });
        }
    const setInfos = this.sets(dataset.test.count);
    return {
      datasetName: dataset.name,
      testCount: dataset.test.count,
      scores: OOD_SCORES.map((id) => ({ id, label: SCORE_LABELS[id] })),
      sets: setIds.map((id) => setInfos.find((s) => s.id === id)!),
      models: modelResults,
      rows,
      seconds: (performance.now() - started) / 1000,
    };
  }
}
