import { getBackend } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend/chooseBackend';
import {
  type DistillConfig,
  type DistillMethodInfo,
  distillMethodInfos,
  parseDistillConfig,
} from './run/runSpec';
import { LabRun, type RunTeacher } from './run/labRun';
import { findMethod } from './distill/registry';
import { BASELINE_METHOD } from './config/methods';
import { METHOD_FILES } from './distill/methodCheckpoint';
import { type BackendReport, type InitBackendOptions, initBackend } from './backend/initBackend';
import { AnchorExplorer, type AnchorGalleryView, type AnchorNeighbours } from './distill/anchorGallery';
import type { Dataset, ImageSplit } from './data/cifar10';
import { isPreparedSetId, loadPreparedSet, type PreparedSetId } from './data/prepared';
import { type SampleImage, sampleImages } from './data/samples';
import { type DatasetSummary, summarizeDataset } from './data/stats';
import { datasetFromUploads, type UploadedFile } from './data/upload';
import {
  LogitsCache,
  type SplitLogits,
  splitLogitsOf,
  type StudentSource,
  testSamples,
} from './explorer/splitLogits';
import type { ModelRole } from './models/presets';
import { selectAnchors } from './distill/anchors';
import { type PassOptions, passAccuracy, TeacherPasses } from './distill/teacherPasses';
import { type AnchorChooser, OodLab, type OodModel, type OodProgress, type OodRequest } from './ood/oodLab';
import { copyOfModel, oodModelKey } from './ood/oodModels';
import type { OodResult, OodSetInfo } from './ood/oodTypes';
import { reportCard, type ReportCard } from './report/reportCard';
import { CHECKPOINT_FILES, type RunState } from './training/checkpoint';
import type { TrainConfig } from './training/hyperparams';
import { exportModel, loadTeacher, type NamedFile, type PresetInfo, presetInfos } from './training/labModels';
import {
  memoryRunSlot,
  RUN_CONTEXT_FILE,
  type RunContext,
  type RunSlot,
  type RunSlots,
} from './training/savedRuns';
import type { EpochLog, StepLog } from './training/trainer';
import {
  laneRunName,
  logEveryFor,
  RUN_LANES,
  type RunEnd,
  type RunLane,
  type RunListener,
  type RunPosition,
  type YieldToHost,
} from './run/runTypes';

export interface SessionHost extends InitBackendOptions {
  /** Reads a prepared data file by its path under data/ (fetch in a Worker, fs in Node). */
  readonly readPreparedFile: (relativePath: string) => Promise<Uint8Array>;
  /** Where runs are saved across sessions (IndexedDB in the browser); memory when left out. */
  readonly runSlots?: RunSlots;
  /** The lab's shipped teacher (model.json + weights), or null when none is shipped. */
  readonly readShippedTeacher?: () => Promise<TeacherFiles | null>;
  /** Lets the host handle queued requests (a pause) during long work; a timer turn when left out. */
  readonly yieldToHost?: YieldToHost;
}

export interface TeacherFiles {
  readonly modelJson: Uint8Array;
  readonly weights: Uint8Array;
  /** Shown in messages: a path or the chosen file's name. */
  readonly name: string;
}

/** The teacher the lab distils from, as the UI shows it. */
export interface TeacherInfo {
  readonly source: 'shipped' | 'imported' | 'trained';
  readonly preset: string;
  /** Where it came from: the shipped path, the imported file's name, or the run. */
  readonly name: string;
  /** Top-1 accuracy on the test split of `datasetId`; null until known. NaN: that split is empty. */
  readonly testAccuracy: number | null;
  readonly datasetId: string | null;
  /**
   * Where `testAccuracy` comes from: stored with the model (shown at once), measured in this visit, or the
   * teacher run's last epoch; null while unknown.
   */
  readonly accuracySource: 'stored' | 'measured' | 'training' | null;
}

/** How a teacher measurement ended: with the teacher's new info, or cancelled (a run started, or the user). */
export type TeacherMeasurement =
  | { readonly outcome: 'measured'; readonly info: TeacherInfo }
  | { readonly outcome: 'cancelled'; readonly info: TeacherInfo | null };

class MeasurementCancelled extends Error {}

/** A saved run, as the resume offer describes it. */
export interface SavedRunSummary {
  readonly lane: RunLane;
  readonly method: string;
  readonly methodLabel: string;
  readonly preset: string;
  readonly datasetId: string;
  readonly datasetName: string;
  readonly savedAt: string;
  readonly completedEpochs: number;
  readonly stepInEpoch: number;
  readonly epochs: number;
  /** Test accuracy after the last completed epoch; null before the first. */
  readonly testAccuracy: number | null;
}

/** A run loaded back from its checkpoint: settings, curves and position. */
export interface RestoredRun {
  readonly lane: RunLane;
  readonly method: string;
  readonly params: Readonly<Record<string, number>>;
  readonly labelledFraction: number;
  readonly config: TrainConfig;
  readonly steps: readonly StepLog[];
  readonly epochs: readonly EpochLog[];
  readonly position: RunPosition;
  readonly finished: boolean;
}

/** A run's set-up, reported before its first step. */
export interface DistillSetup {
  /** Seconds the method took to set up (AKD: choosing its anchors with the teacher over the training split). */
  readonly seconds: number;
  /** Training records whose labels the run uses (the label fraction, class-balanced). */
  readonly labelledCount: number;
  readonly trainCount: number;
  /** The teacher distilled from; null for `ce`, which needs none. */
  readonly teacher: TeacherInfo | null;
}

/** What a run reports to its host: the run's logs, timing and checkpoints, and its set-up once done. */
export interface SessionRunListener extends RunListener {
  ready?(setup: DistillSetup): void;
}

interface LoadedTeacher {
  readonly model: tf.LayersModel;
  readonly source: 'shipped' | 'imported';
  readonly preset: string;
  readonly name: string;
  /** Known test accuracies by dataset id: stored with the model, then measured here. */
  readonly accuracies: Map<string, { value: number; source: 'stored' | 'measured' }>;
}

/** A run's position as the explorer names a model's weights: "epoch 2 of 3, step 40". */
const positionText = (p: RunPosition): string =>
  `epoch ${p.completedEpochs} of ${p.epochs}${p.stepInEpoch ? `, step ${p.stepInEpoch}` : ''}`;

/** The teacher distillation uses: a teacher run's model, or a loaded (shipped or imported) one. */
type CurrentTeacher =
  | { readonly kind: 'run'; readonly model: tf.LayersModel; readonly run: LabRun }
  | { readonly kind: 'loaded'; readonly model: tf.LayersModel; readonly loaded: LoadedTeacher };

const nextTimerTurn: YieldToHost = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The engine's state for one lab: the backend, the active dataset, the teacher and the two roles' training
 * runs. Hosts (the Worker, tests) call it; every method either succeeds or throws with a message ready to show,
 * leaving the active dataset and the current models as they were.
 */
export class LabSession {
  private dataset: Dataset | null = null;
  private presetList: PresetInfo[] | null = null;
  private readonly runs: Record<RunLane, LabRun | null> = { teacher: null, student: null, distill: null };
  /** A shipped or imported teacher; a teacher run, once started, takes its place. */
  private loadedTeacher: LoadedTeacher | null = null;
  private readonly slots: Record<RunLane, RunSlot>;
  private readonly yieldToHost: YieldToHost;
  /** The distillation run (one at a time), with the teacher model it distils from (null for `ce`). */
  /** Why a lane's run ended without the user (its teacher was replaced), for the next resume's message. */
  private readonly endedBecause = new Map<RunLane, string>();
  /** A run is being set up (AKD chooses its anchors): nothing else may start meanwhile. */
  private starting = false;
  /** The teacher measurement in flight, if any: a run starting (or the user) cancels it. */
  private measurement: { cancelled: boolean } | null = null;
  /** The temperature explorer's logits, per model (explorer/splitLogits.ts). */
  private readonly logitsCache = new LogitsCache();
  /** The anchor gallery's teacher features and rankings, for one dataset (distill/anchorGallery.ts). */
  private anchorExplorer: { readonly explorer: AnchorExplorer; readonly dataset: Dataset } | null = null;

  /** The trust panel's engine (ood/oodLab.ts), the visit's earlier distilled students, each run's own anchors. */
  private readonly ood = new OodLab(
    (path) => this.host.readPreparedFile(path),
    (model, split, onProgress) => {
      const teacher = this.currentTeacher();
      return teacher?.model === model.model ? this.teacherPass(teacher, split, { onProgress }) : null;
    },
  );
  /** The current teacher's outputs per split, shared by the measurement, explorer, gallery and trust panel. */
  private readonly teacherPasses = new TeacherPasses();
  private readonly keptStudents: OodModel[] = [];
  private readonly runAnchorIndices = new WeakMap<LabRun, readonly number[] | null>();

  constructor(private readonly host: SessionHost) {
    const slotOf = (lane: RunLane) => (host.runSlots ? host.runSlots(lane) : memoryRunSlot());
    this.slots = { teacher: slotOf('teacher'), student: slotOf('student'), distill: slotOf('distill') };
    this.yieldToHost = host.yieldToHost ?? nextTimerTurn;
  }

  /**
   * Backend switches and teacher measurements take turns: a measurement in flight when the backend changes
   * would go on with its tensors moved to the new backend (minutes on cpu), and a switch must not land mid-way.
   */
  private turn: Promise<unknown> = Promise.resolve();
  private inTurn<T>(task: () => Promise<T>): Promise<T> {
    const result = this.turn.then(task, task);
    this.turn = result.catch(() => undefined);
    return result;
  }

  async initBackend(requested?: BackendName): Promise<BackendReport> {
    this.refuseWhileTraining('change the backend');
    // A teacher measurement in flight stops at its next slice rather than hold the switch (on cpu a whole
    // measurement takes most of a minute).
    this.cancelTeacherMeasurement();
    return this.inTurn(() => initBackend(requested, this.host));
  }

  async usePreparedSet(id: PreparedSetId): Promise<DatasetSummary> {
    return this.activate(await loadPreparedSet(id, this.host.readPreparedFile));
  }

  useUploads(files: readonly UploadedFile[]): DatasetSummary {
    return this.activate(datasetFromUploads(files));
  }

  samples(count: number, seed: number): SampleImage[] {
    return sampleImages(this.activeDataset(), count, seed);
  }

  activeDataset(): Dataset {
    if (!this.dataset) throw new Error('no dataset is loaded yet');
    return this.dataset;
  }

  /** Every model preset with its parameter count and FLOPs per image (needs a started backend). */
  presets(): PresetInfo[] {
    this.presetList ??= presetInfos();
    return this.presetList;
  }

  /**
   * Starts a new run in `lane` on the active dataset: the Teacher and Student panels train on labels (`ce`), the
   * Distillation panel by any method from the current teacher (`ce` needs none). Resolves when the run pauses,
   * stops or ends. The lane's previous run, paused or ended, is replaced.
   */
  async startRun(lane: RunLane, config: DistillConfig, listener: SessionRunListener): Promise<RunEnd> {
    const what = `start the ${laneRunName(lane)}`;
    this.refuseWhileTraining(what);
    // A teacher measurement yields to training: the run needs the device more than a number already known.
    this.cancelTeacherMeasurement();
    // The Worker is where settings are trusted: check them here too, with the same reasons as the form.
    const settings = parseDistillConfig({
      ...config,
      train: {
        ...config.train,
        role: lane === 'teacher' ? 'teacher' : 'student',
        logEvery: logEveryFor(getBackend()),
      },
    });
    const { needsTeacher } = findMethod(settings.method);
    if (lane !== 'distill' && settings.method !== BASELINE_METHOD)
      throw new Error(`the ${lane} panel trains on labels (ce); distil in the Distillation panel`);
    const dataset = this.activeDataset();
    const teacher = needsTeacher ? this.currentTeacher() : null;
    if (needsTeacher && !teacher)
      throw new Error(
        'there is no teacher to distil from: load the shipped teacher, import one, or train one in the Teacher panel',
      );
    this.starting = true;
    let run: LabRun;
    try {
      run = await LabRun.start(settings, dataset, teacher && this.runTeacherOf(teacher), this.slots[lane]);
    } finally {
      this.starting = false;
    }
    this.replaceRun(lane, run);
    // Its anchors, if its method has them, for the trust panel's u(x) (read while the method is alive).
    this.runAnchorIndices.set(run, (await run.anchorMasks())?.anchors.indices ?? null);
    listener.ready?.({
      seconds: run.setupSeconds,
      labelledCount: run.labelledCount,
      trainCount: dataset.train.count,
      teacher: teacher ? this.teacherInfoOf(teacher) : null,
    });
    return run.run(listener, this.yieldToHost);
  }

  /** Continues a lane's paused run (after a non-finite loss: from its last checkpoint). */
  async resumeRun(lane: RunLane, listener: SessionRunListener): Promise<RunEnd> {
    const run = this.runs[lane];
    const ended = this.endedBecause.get(lane);
    if (ended) throw new Error(ended);
    if (!run) throw new Error(`there is no paused ${laneRunName(lane)} to resume; start one`);
    this.refuseWhileTraining(`resume the ${laneRunName(lane)}`);
    // Training the teacher on changes the teacher a paused distillation was distilling from.
    if (lane === 'teacher') this.retireDistill('the teacher went on training');
    return run.run(listener, this.yieldToHost);
  }

  /** Asks a lane's running run to pause after its current step; its start/resume call then resolves. */
  pauseRun(lane: RunLane): void {
    this.runs[lane]?.requestPause();
  }

  /** Ends a lane's run; a running one saves a checkpoint at its next step boundary. The trained model stays. */
  stopRun(lane: RunLane): void {
    this.runs[lane]?.stop();
  }

  /** Every distillation method with its declared parameters, as plain data for the UI. */
  distillMethods(): DistillMethodInfo[] {
    return distillMethodInfos();
  }

  /** The lane's saved run, as the resume offer describes it; null when it has none. */
  async savedRun(lane: RunLane): Promise<SavedRunSummary | null> {
    const slot = this.slots[lane];
    if (!(await slot.exists())) return null;
    const read = async (name: string) =>
      JSON.parse(new TextDecoder().decode(await slot.read(name))) as unknown;
    const run = (await read(CHECKPOINT_FILES.state)) as RunState;
    const context = (await read(RUN_CONTEXT_FILE)) as RunContext;
    const method = await slot
      .read(METHOD_FILES.json)
      .then((bytes) => (JSON.parse(new TextDecoder().decode(bytes)) as { method: string }).method)
      .catch(() => BASELINE_METHOD);
    const last = run.state.epochs[run.state.epochs.length - 1];
    return {
      lane,
      method,
      methodLabel: findMethod(method).label,
      preset: run.config.model,
      datasetId: context.datasetId,
      datasetName: context.datasetName,
      savedAt: context.savedAt,
      completedEpochs: run.state.epoch,
      stepInEpoch: run.state.stepInEpoch,
      epochs: run.config.epochs,
      testAccuracy: last?.testAccuracy ?? null,
    };
  }

  /** Every lane's saved run (the resume offer after a reload). */
  async savedRuns(): Promise<SavedRunSummary[]> {
    const runs = await Promise.all(RUN_LANES.map((lane) => this.savedRun(lane)));
    return runs.filter((run): run is SavedRunSummary => run !== null);
  }

  /**
   * Loads the lane's saved run as a paused run (the active dataset must be the one it trains on; a distillation
   * needs a teacher of the preset it distils from).
   */
  async restoreSavedRun(lane: RunLane): Promise<RestoredRun> {
    this.refuseWhileTraining(`restore the ${laneRunName(lane)}`);
    const teacher = lane === 'distill' ? this.currentTeacher() : null;
    const run = await LabRun.restore(
      this.slots[lane],
      this.activeDataset(),
      teacher && this.runTeacherOf(teacher),
      { logEvery: logEveryFor(getBackend()) },
    );
    this.replaceRun(lane, run);
    this.runAnchorIndices.set(run, (await run.anchorMasks())?.anchors.indices ?? null);
    const { config, state, settings } = run;
    return {
      lane,
      method: settings.method,
      params: settings.params,
      labelledFraction: settings.labelledFraction,
      config,
      steps: state.steps,
      epochs: state.epochs,
      position: run.position(),
      finished: run.isFinished,
    };
  }

  async discardSavedRun(lane: RunLane): Promise<void> {
    if (this.runs[lane]?.isRunning) throw new Error(`the ${laneRunName(lane)} is training; stop it first`);
    await this.slots[lane].clear();
  }

  /** The role's current model as model.json + weights.bin. */
  async exportModel(role: ModelRole): Promise<NamedFile[]> {
    if (role === 'teacher') {
      const teacher = this.currentTeacher();
      if (!teacher) throw new Error('there is no teacher to export yet');
      const info = this.teacherInfoOf(teacher);
      return exportModel(teacher.model, info.preset, 'teacher', this.knownAccuracies(teacher));
    }
    const run = this.runs.student;
    if (!run) throw new Error('there is no student to export yet; train one first');
    return exportModel(run.model, run.config.model, 'student');
  }

  /** The shipped teacher, if the host has one; it becomes the teacher unless a teacher run exists. */
  async loadShippedTeacher(): Promise<TeacherInfo | null> {
    const files = await this.host.readShippedTeacher?.();
    if (!files) return null;
    return this.useTeacherFiles(files, 'shipped');
  }

  /** A teacher from the user's files; on any error the current teacher stays. */
  importTeacher(files: TeacherFiles): Promise<TeacherInfo> {
    return this.useTeacherFiles(files, 'imported');
  }

  /** The current teacher's logits on every test image, for the temperature explorer (computed once). */
  teacherLogits(): Promise<SplitLogits> {
    return this.inTurn(async () => {
      const teacher = this.currentTeacher();
      if (!teacher)
        throw new Error('there is no teacher yet: load the shipped teacher, import one, or train one');
      const run = this.runs.teacher;
      const version = run ? positionText(run.position()) : 'fixed';
      const info = this.teacherInfoOf(teacher);
      const name = `${info.preset} (${info.source}${run ? `, ${version}` : ''})`;
      const dataset = this.activeDataset();
      return splitLogitsOf(name, dataset, (await this.teacherPass(teacher, dataset.test)).logits);
    });
  }

  /** A student's logits on every test image: the latest distillation's student, or the Student panel's. */
  studentLogits(source: StudentSource): Promise<SplitLogits> {
    return this.inTurn(() => {
      const distill = this.runs.distill;
      const run = this.runs.student;
      const found =
        source === 'distillation'
          ? distill && {
              model: distill.model,
              label: `${distill.settings.method} student`,
              position: distill.position(),
            }
          : run && {
              model: run.model,
              label: `${run.config.model} from the Student panel`,
              position: run.position(),
            };
      if (!found)
        throw new Error(
          source === 'distillation'
            ? 'there is no distilled student yet; start a distillation'
            : 'there is no student yet; train one in the Student panel',
        );
      const version = positionText(found.position);
      return this.logitsCache.of(
        found.model,
        `${found.label}, ${version}`,
        version,
        this.activeDataset(),
        this.yieldToHost,
      );
    });
  }

  /**
   * The models the trust panel can score: the teacher, the Student panel's student, the latest distillation's
   * student, and the visit's earlier distilled students (copies kept when a new distillation replaced them).
   */
  async oodModels(): Promise<OodModel[]> {
    const models: OodModel[] = [];
    const teacher = this.currentTeacher();
    if (teacher) {
      const info = this.teacherInfoOf(teacher);
      const version = teacher.kind === 'run' ? positionText(teacher.run.position()) : 'fixed';
      models.push({
        key: oodModelKey(teacher.model, version),
        label: `Teacher: ${info.preset} (${info.source}${teacher.kind === 'run' ? `, ${version}` : ''})`,
        role: 'teacher',
        lane: teacher.kind === 'run' ? 'teacher' : undefined,
        model: teacher.model,
        ownAnchors: null,
      });
    }
    const studentRun = this.runs.student;
    if (studentRun) {
      const version = positionText(studentRun.position());
      models.push({
        key: oodModelKey(studentRun.model, version),
        label: `Student: ${studentRun.config.model} (Student panel, ${version})`,
        role: 'student',
        lane: 'student',
        model: studentRun.model,
        ownAnchors: null,
      });
    }
    models.push(...this.keptStudents);
    const distill = this.runs.distill;
    if (distill) {
      const version = positionText(distill.position());
      models.push({
        key: oodModelKey(distill.model, version),
        label: `Student: ${distill.settings.method}, ${distill.settings.train.model} (latest distillation, ${version})`,
        role: 'student',
        lane: 'distill',
        model: distill.model,
        ownAnchors: this.ownAnchorsOf(distill),
      });
    }
    return models;
  }

  /** The OoD sets to choose from (MNIST, noise, uploads), sized for the active test split. */
  oodSets(): OodSetInfo[] {
    return this.ood.sets(this.dataset?.test.count ?? 0);
  }

  /** The report card of the current teacher and the latest distillation's student (report/reportCard.ts). */
  async reportCard(): Promise<ReportCard> {
    this.refuseWhileTraining('measure the report card');
    // Refused at once, not after a teacher measurement in flight (inTurn); checked again when its turn comes.
    const missing = () =>
      !this.currentTeacher()
        ? 'there is no teacher yet: load, import or train one'
        : !this.runs.distill
          ? 'there is no distilled student yet; start a distillation'
          : null;
    if (missing()) throw new Error(missing()!);
    return this.inTurn(() => {
      const teacher = this.currentTeacher();
      const distill = this.runs.distill;
      if (!teacher || !distill) throw new Error(missing() ?? 'the models changed; measure again');
      const { source, preset } = this.teacherInfoOf(teacher);
      return reportCard(
        { model: teacher.model, name: `${preset} (${source})`, preset, role: 'teacher' },
        {
          model: distill.model,
          name: `${distill.settings.method} student, ${positionText(distill.position())}`,
          preset: distill.settings.train.model,
          role: 'student',
        },
        this.activeDataset().test,
      );
    });
  }

  /** An uploaded OoD set; a bad file is refused naming it, and the sets already loaded stay. */
  addOodSet(files: readonly UploadedFile[]): OodSetInfo {
    return this.ood.addUpload(files);
  }

  /** Scores the chosen models on the test split and OoD sets (cached per model and set); null when cancelled. */
  async runOod(request: OodRequest, onProgress: (progress: OodProgress) => void): Promise<OodResult | null> {
    this.refuseWhileTraining('run the OoD analysis');
    const models = await this.oodModels();
    const teacher = models.find((m) => m.role === 'teacher') ?? null;
    const current = this.currentTeacher();
    // The current teacher's anchors come from the anchor gallery's features (computed once for both).
    const chooseAnchors: AnchorChooser = async (chooser, train, progress) => {
      if (chooser.model !== current?.model)
        return (await selectAnchors(chooser.model, train, { perClass: 1 })).indices;
      return (await this.prepareAnchors(progress)).anchors(1).indices;
    };
    return this.inTurn(() =>
      this.ood.run(
        request,
        models,
        teacher,
        this.activeDataset(),
        onProgress,
        this.yieldToHost,
        chooseAnchors,
      ),
    );
  }

  cancelOod(): void {
    this.ood.cancel();
  }

  /** A distillation's anchors when they index the active training split (a dataset switch leaves them behind). */
  private ownAnchorsOf(run: LabRun): readonly number[] | null {
    const indices = this.runAnchorIndices.get(run) ?? null;
    const count = this.dataset?.train.count ?? 0;
    return indices && indices.every((i) => i < count) ? indices : null;
  }

  /** A copy of a replaced distillation's student, so the trust panel can still score it (untrained ones skipped). */
  private keepStudentForOod(run: LabRun): void {
    const position = run.position();
    if (position.completedEpochs === 0 && position.stepInEpoch === 0) return;
    const { method, train } = run.settings;
    const model = copyOfModel(run.model, train.model);
    const n = this.keptStudents.length + 1;
    this.keptStudents.push({
      key: oodModelKey(model, 'kept'),
      label: `Student: ${method}, ${train.model} (distillation ${n} of this visit, ${positionText(position)})`,
      role: 'student',
      model,
      ownAnchors: this.ownAnchorsOf(run),
    });
  }

  private explorerOf(dataset: Dataset): AnchorExplorer {
    if (this.anchorExplorer?.dataset !== dataset)
      this.anchorExplorer = { explorer: new AnchorExplorer(dataset.classNames), dataset };
    return this.anchorExplorer.explorer;
  }

  /** The current teacher's features over the training split, for the gallery (computed once per teacher). */
  private async prepareAnchors(onProgress?: (done: number, total: number) => void): Promise<AnchorExplorer> {
    const teacher = this.currentTeacher();
    if (!teacher)
      throw new Error('there is no teacher yet: load the shipped teacher, import one, or train one');
    const dataset = this.activeDataset();
    const explorer = this.explorerOf(dataset);
    const version = teacher.kind === 'run' ? positionText(teacher.run.position()) : 'fixed';
    const pass = await this.teacherPass(teacher, dataset.train, { onProgress });
    explorer.prepareFrom(teacher.model, dataset.train, version, pass.features, pass.dim);
    return explorer;
  }

  /** The current teacher's outputs on a split: one pass shared by the whole session (distill/teacherPasses.ts). */
  private teacherPass(teacher: CurrentTeacher, split: ImageSplit, options: PassOptions = {}) {
    const version = teacher.kind === 'run' ? positionText(teacher.run.position()) : 'fixed';
    return this.teacherPasses.of(teacher.model, version, split, {
      yieldToHost: this.yieldToHost,
      ...options,
    });
  }

  /** The current teacher's anchors by AKD's rule (labels, inference mode), before any training. */
  previewAnchors(
    perClass: number,
    onProgress?: (done: number, total: number) => void,
  ): Promise<AnchorGalleryView> {
    this.refuseWhileTraining('preview anchors');
    return this.inTurn(async () => {
      const explorer = await this.prepareAnchors(onProgress);
      return explorer.view(this.activeDataset().train, explorer.anchors(perClass), 'teacher preview');
    });
  }

  /** The latest distillation's anchors with its masks now (or final); null when its method has none. */
  async runAnchors(): Promise<AnchorGalleryView | null> {
    const run = this.runs.distill;
    const masks = await run?.anchorMasks();
    if (!run || !masks) return null;
    const dataset = this.activeDataset();
    const label = `${run.settings.method}, ${positionText(run.position())}${run.isFinished ? ' (final)' : ''}`;
    return this.explorerOf(dataset).view(dataset.train, masks.anchors, label, masks, run.anchorMaskHistory);
  }

  /** An anchor's nearest training images in the teacher's feature space, and the least central of its class. */
  async anchorNeighbours(record: number): Promise<AnchorNeighbours> {
    const explorer = this.explorerOf(this.activeDataset());
    if (!explorer.isPrepared) {
      this.refuseWhileTraining("see an anchor's neighbours (the teacher reads every training image)");
      await this.inTurn(() => this.prepareAnchors());
    }
    return explorer.neighbours(record);
  }

  /** Chosen test images of the active dataset, ready to draw. */
  testImages(indices: readonly number[]): SampleImage[] {
    return testSamples(this.activeDataset(), indices);
  }

  /** The current teacher as the UI shows it, with its accuracy on the active dataset when known; null: none. */
  teacherInfo(): TeacherInfo | null {
    const teacher = this.currentTeacher();
    return teacher ? this.teacherInfoOf(teacher) : null;
  }

  /**
   * The teacher's accuracy on the active dataset's test split, measured now, a slice at a time. Cancelled by
   * `cancelTeacherMeasurement` or by a run starting: a measurement never holds up training.
   */
  measureTeacher(): Promise<TeacherMeasurement> {
    this.cancelTeacherMeasurement();
    const token = { cancelled: false };
    this.measurement = token;
    return this.inTurn(async () => {
      const teacher = this.currentTeacher();
      if (!teacher) throw new Error('there is no teacher yet');
      const dataset = this.activeDataset();
      const yieldOrStop = async () => {
        await this.yieldToHost();
        if (token.cancelled) throw new MeasurementCancelled();
      };
      try {
        if (token.cancelled) throw new MeasurementCancelled();
        const pass = await this.teacherPass(teacher, dataset.test, { yieldToHost: yieldOrStop });
        const value = passAccuracy(pass, dataset.test.labels);
        // A run started, a new teacher came or the dataset changed meanwhile: this number answers an old question.
        if (token.cancelled || this.currentTeacher()?.model !== teacher.model || this.dataset !== dataset)
          throw new MeasurementCancelled();
        if (teacher.kind === 'loaded')
          teacher.loaded.accuracies.set(dataset.id, { value, source: 'measured' });
        return { outcome: 'measured' as const, info: this.teacherInfoOf(teacher, value) };
      } catch (error) {
        if (error instanceof MeasurementCancelled)
          return { outcome: 'cancelled' as const, info: this.teacherInfo() };
        throw error;
      } finally {
        if (this.measurement === token) this.measurement = null;
      }
    });
  }

  /** Stops a teacher measurement in flight at its next slice (a no-op when none is). */
  cancelTeacherMeasurement(): void {
    if (this.measurement) this.measurement.cancelled = true;
    this.measurement = null;
  }

  private async useTeacherFiles(files: TeacherFiles, source: 'shipped' | 'imported'): Promise<TeacherInfo> {
    const run = this.runs.teacher;
    if (run?.isRunning) throw new Error('the teacher is training; pause or stop it first');
    if (this.starting || this.runs.distill?.isRunning)
      throw new Error('a distillation is running from the current teacher; pause or stop it first');
    const { model, preset, testAccuracy } = await loadTeacher(files.modelJson, files.weights, files.name);
    if (source === 'shipped' && run && !run.isFinished) {
      // A teacher run resumed while the shipped teacher was loading outranks it.
      model.dispose();
      return this.teacherInfo()!;
    }
    this.cancelTeacherMeasurement();
    this.replaceRun('teacher', null);
    this.loadedTeacher?.model.dispose();
    const accuracies: LoadedTeacher['accuracies'] = new Map();
    for (const [id, value] of Object.entries(testAccuracy)) accuracies.set(id, { value, source: 'stored' });
    this.loadedTeacher = { model, source, preset, name: files.name, accuracies };
    // No measurement here: a stored accuracy shows at once; the host measures afterwards, cancellably.
    return this.teacherInfo()!;
  }

  /** The teacher run's model while there is one, else the loaded teacher. */
  private currentTeacher(): CurrentTeacher | null {
    const run = this.runs.teacher;
    if (run) return { kind: 'run', model: run.model, run };
    return this.loadedTeacher
      ? { kind: 'loaded', model: this.loadedTeacher.model, loaded: this.loadedTeacher }
      : null;
  }

  /** Test accuracies known for a teacher, by prepared set id, for its metadata when exported. */
  private knownAccuracies(teacher: CurrentTeacher): Record<string, number> {
    const out: Record<string, number> = {};
    if (teacher.kind === 'loaded') {
      for (const [id, { value }] of teacher.loaded.accuracies) if (isPreparedSetId(id)) out[id] = value;
    } else {
      const last = teacher.run.state.epochs.at(-1);
      if (last && isPreparedSetId(teacher.run.datasetId) && Number.isFinite(last.testAccuracy))
        out[teacher.run.datasetId] = last.testAccuracy;
    }
    return out;
  }

  private teacherInfoOf(teacher: CurrentTeacher, measured?: number): TeacherInfo {
    if (teacher.kind === 'run') {
      const { run } = teacher;
      const last = run.state.epochs[run.state.epochs.length - 1];
      return {
        source: 'trained',
        preset: run.config.model,
        name: `${run.config.model} trained here`,
        testAccuracy: last?.testAccuracy ?? null,
        datasetId: last ? run.datasetId : null,
        accuracySource: last ? 'training' : null,
      };
    }
    const { loaded } = teacher;
    const datasetId = this.dataset?.id ?? null;
    const known = datasetId === null ? undefined : loaded.accuracies.get(datasetId);
    const value = measured ?? known?.value;
    return {
      source: loaded.source,
      preset: loaded.preset,
      name: loaded.name,
      testAccuracy: value ?? null,
      datasetId: value === undefined ? null : datasetId,
      accuracySource: measured !== undefined ? 'measured' : (known?.source ?? null),
    };
  }

  private replaceRun(lane: RunLane, run: LabRun | null): void {
    // The teacher model a paused distillation uses is about to be freed or replaced.
    if (lane === 'teacher') this.retireDistill('its teacher was replaced');
    const previous = this.runs[lane];
    // A replaced distillation's student stays scorable in the trust panel.
    if (lane === 'distill' && previous) this.keepStudentForOod(previous);
    previous?.dispose();
    this.runs[lane] = run;
    this.endedBecause.delete(lane);
    if (lane === 'teacher' && run) {
      this.loadedTeacher?.model.dispose();
      this.loadedTeacher = null;
    }
  }

  /** Ends a distillation whose teacher changes or goes away (a `ce` run has none and goes on). */
  private retireDistill(why: string): void {
    const run = this.runs.distill;
    if (!run?.usesTeacher) return;
    this.replaceRun('distill', null);
    this.endedBecause.set('distill', `the distillation has ended: ${why}; start a new one`);
  }

  /** The current teacher as a run records it. */
  private runTeacherOf(teacher: CurrentTeacher): RunTeacher {
    const info = this.teacherInfoOf(teacher);
    return { model: teacher.model, preset: info.preset, source: info.name };
  }

  /** What is training now, as messages name it. */
  private runningName(): string | null {
    if (this.runs.teacher?.isRunning) return 'the teacher is training';
    if (this.runs.student?.isRunning) return 'the student is training';
    if (this.runs.distill?.isRunning) return 'a distillation is running';
    return null;
  }

  /** One run trains at a time: two would share one device and each would crawl. */
  private refuseWhileTraining(what: string): void {
    if (this.ood.isRunning) throw new Error(`the OoD analysis is running; cancel it before you ${what}`);
    if (this.starting)
      throw new Error(`a run is being set up; let it start, then pause it before you ${what}`);
    const running = this.runningName();
    if (running) throw new Error(`${running}; pause it before you ${what}`);
  }

  private activate(dataset: Dataset): DatasetSummary {
    this.dataset = dataset;
    return summarizeDataset(dataset);
  }
}
