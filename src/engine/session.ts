import { getBackend } from '@tensorflow/tfjs-core';
import type { BackendName } from './backend/chooseBackend';
import {
  type DistillConfig,
  type DistillMethodInfo,
  distillMethodInfos,
  parseDistillConfig,
} from './run/runSpec';
import { LabRun, type LabRunOptions } from './run/labRun';
import { readSavedRun } from './run/savedRunSummary';
import type {
  RestoredRun,
  SavedRunSummary,
  SessionHost,
  SessionRunListener,
  TeacherFiles,
  TeacherInfo,
  TeacherMeasurement,
} from './sessionTypes';
import {
  type CurrentTeacher,
  currentTeacherOf,
  knownBySet,
  type LoadedTeacher,
  positionText,
  runTeacherOf,
  teacherInfoOf,
  teacherVersion,
} from './teacher/currentTeacher';
import { findMethod } from './distill/registry';
import { BASELINE_METHOD } from './config/methods';
import { type BackendReport, initBackend } from './backend/initBackend';
import { AnchorExplorer, type AnchorGalleryView, type AnchorNeighbours } from './distill/anchorGallery';
import type { Dataset, ImageSplit } from './data/cifar10';
import { loadPreparedSet, type PreparedSetId } from './data/prepared';
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
import { anchorsFit, selectAnchors } from './distill/anchors';
import { type PassOptions, passAccuracy, TeacherPasses } from './distill/teacherPasses';
import { type AnchorChooser, OodLab, type OodModel, type OodProgress, type OodRequest } from './ood/oodLab';
import { VisitModels } from './ood/visitModels';
import type { OodResult, OodSetInfo } from './ood/oodTypes';
import { reportCard, type ReportCard } from './report/reportCard';
import { exportModel, loadTeacher, type NamedFile, type PresetInfo, presetInfos } from './training/labModels';
import { memoryRunSlot, type RunSlot } from './training/savedRuns';
import { type SweepListener, SweepRunner } from './run/sweepRun';
import { MutualLab, type MutualListener, type MutualRequest, type MutualResult } from './schemes/mutualLab';
import type { SweepEnd, SweepRequest } from './config/sweep';
import {
  laneRunName,
  logEveryFor,
  RUN_LANES,
  type RunEnd,
  type RunLane,
  type YieldToHost,
} from './run/runTypes';

export type {
  DistillSetup,
  RestoredRun,
  SavedRunSummary,
  SessionHost,
  SessionRunListener,
  TeacherFiles,
  TeacherInfo,
  TeacherMeasurement,
} from './sessionTypes';

class MeasurementCancelled extends Error {}

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
  /** Every student of the visit the trust panel can score, with each run's own anchors (ood/visitModels.ts). */
  private readonly visitModels = new VisitModels();
  /** The T x alpha sweep (run/sweepRun.ts), its cells in their own slot in memory, not the distillation's. */
  private readonly sweep = new SweepRunner();
  private readonly sweepSlot = memoryRunSlot();
  /** The Mutual learning panel's run (in memory; the CLI's `scheme` keeps checkpoints). */
  private readonly mutual = new MutualLab();

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
    // The preset table (models built to count their parameters and FLOPs, ~0.2 s) is what the page asks for
    // next: built while the loop team's helpers start rather than after.
    const whileHelpersStart = () => {
      try {
        this.presets();
      } catch {
        // Not the backend's failure: the page's own request for the presets reports it.
      }
    };
    return this.inTurn(() => initBackend(requested, { ...this.host, whileHelpersStart }));
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
      run = await LabRun.start(
        settings,
        dataset,
        teacher && runTeacherOf(teacher, this.dataset?.id ?? null),
        this.slots[lane],
        this.runOptions(),
      );
    } finally {
      this.starting = false;
    }
    this.replaceRun(lane, run);
    // Its anchors, if its method has them, for the trust panel's u(x) (read while the method is alive).
    const anchors = await this.visitModels.noteAnchors(run);
    // Chosen from a loaded teacher by the trust panel's rule (1 per class, every label): kept with that teacher.
    if (
      anchors &&
      teacher?.kind === 'loaded' &&
      settings.labelledFraction === 1 &&
      !teacher.loaded.anchors.has(dataset.id) &&
      anchorsFit(anchors, dataset.train)
    )
      teacher.loaded.anchors.set(dataset.id, {
        anchors: { indices: anchors.indices, centrality: anchors.centrality },
        source: 'chosen',
      });
    listener.ready?.({
      seconds: run.setupSeconds,
      labelledCount: run.labelledCount,
      trainCount: dataset.train.count,
      teacher: teacher ? this.teacherInfoOf(teacher) : null,
      teacherAhead: run.teacherAhead,
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

  /**
   * Runs the sweep's cells one after another from the current teacher on the active dataset (config/sweep.ts);
   * resolves when all are done or after cancelSweep. Refused while anything else trains.
   */
  async runSweep(request: SweepRequest, listener: SweepListener): Promise<SweepEnd> {
    this.refuseWhileTraining('run the sweep');
    const teacher = this.currentTeacher();
    if (!teacher && request.cells.some((cell) => cell !== null))
      throw new Error(
        'there is no teacher to distil from: load the shipped teacher, import one, or train one in the Teacher panel',
      );
    this.cancelTeacherMeasurement();
    const train = { ...request.train, logEvery: logEveryFor(getBackend()) };
    return this.sweep.run(
      { ...request, train },
      this.activeDataset(),
      teacher && runTeacherOf(teacher, this.dataset?.id ?? null),
      this.sweepSlot,
      listener,
      this.yieldToHost,
    );
  }

  /**
   * A mutual-learning run of 2-4 students on the active dataset (schemes/mutualLab.ts), under the same
   * one-run-at-a-time rule as every other run.
   */
  runMutual(request: MutualRequest, listener: MutualListener): Promise<MutualResult> {
    this.refuseWhileTraining('start mutual learning');
    return this.mutual.start(this.activeDataset(), request, listener, this.yieldToHost);
  }

  /** Ends the mutual-learning run at its next step. */
  stopMutual(): void {
    this.mutual.stop();
  }

  /** Ends a running sweep after its current step (that cell's result is dropped). */
  cancelSweep(): void {
    this.sweep.cancel();
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
  savedRun(lane: RunLane): Promise<SavedRunSummary | null> {
    return readSavedRun(this.slots[lane], lane);
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
      teacher && runTeacherOf(teacher, this.dataset?.id ?? null),
      { ...this.runOptions(), logEvery: logEveryFor(getBackend()) },
    );
    this.replaceRun(lane, run);
    await this.visitModels.noteAnchors(run);
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
      return exportModel(teacher.model, info.preset, 'teacher', knownBySet(teacher));
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
    const teacher = this.currentTeacher();
    return this.visitModels.list({
      teacher: teacher && { current: teacher, info: this.teacherInfoOf(teacher) },
      student: this.runs.student,
      distill: this.runs.distill,
      trainCount: this.dataset?.train.count ?? 0,
    });
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
    const dataset = this.activeDataset();
    // A loaded teacher's anchors stored with it (or chosen earlier) spare the pass over the training split.
    const known = current?.kind === 'loaded' ? current.loaded.anchors.get(dataset.id) : undefined;
    if (teacher && known && anchorsFit(known.anchors, dataset.train))
      this.ood.knowAnchors(teacher, dataset.id, known.anchors.indices, known.source);
    // Else the current teacher's anchors come from the anchor gallery's features (computed once for both).
    const chooseAnchors: AnchorChooser = async (chooser, train, progress) => {
      if (chooser.model !== current?.model)
        return (await selectAnchors(chooser.model, train, { perClass: 1 })).indices;
      const { indices, centrality } = (await this.prepareAnchors(progress)).anchors(1);
      if (current.kind === 'loaded' && train === dataset.train)
        current.loaded.anchors.set(dataset.id, { anchors: { indices, centrality }, source: 'chosen' });
      return indices;
    };
    return this.inTurn(() =>
      this.ood.run(request, models, teacher, dataset, onProgress, this.yieldToHost, chooseAnchors),
    );
  }

  cancelOod(): void {
    this.ood.cancel();
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
    const version = teacherVersion(teacher);
    const pass = await this.teacherPass(teacher, dataset.train, { onProgress });
    explorer.prepareFrom(teacher.model, dataset.train, version, pass.features, pass.dim);
    return explorer;
  }

  /** What every run of this session is started with from its host. */
  private runOptions(): LabRunOptions {
    return this.host.teacherHost ? { teacherHost: this.host.teacherHost } : {};
  }

  /** The current teacher's outputs on a split: one pass shared by the whole session (distill/teacherPasses.ts). */
  private teacherPass(teacher: CurrentTeacher, split: ImageSplit, options: PassOptions = {}) {
    const version = teacherVersion(teacher);
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
    if (this.sweep.isRunning) throw new Error('a sweep is running from the current teacher; cancel it first');
    const { model, preset, testAccuracy, anchors } = await loadTeacher(
      files.modelJson,
      files.weights,
      files.name,
    );
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
    const storedAnchors: LoadedTeacher['anchors'] = new Map(
      Object.entries(anchors).map(([id, stored]) => [id, { anchors: stored, source: 'stored' }]),
    );
    this.loadedTeacher = { model, source, preset, name: files.name, accuracies, anchors: storedAnchors };
    // No measurement here: a stored accuracy shows at once; the host measures afterwards, cancellably.
    return this.teacherInfo()!;
  }

  /** The teacher run's model while there is one, else the loaded teacher. */
  private currentTeacher(): CurrentTeacher | null {
    return currentTeacherOf(this.runs.teacher, this.loadedTeacher);
  }

  private teacherInfoOf(teacher: CurrentTeacher, measured?: number): TeacherInfo {
    return teacherInfoOf(teacher, this.dataset?.id ?? null, measured);
  }

  private replaceRun(lane: RunLane, run: LabRun | null): void {
    // The teacher model a paused distillation uses is about to be freed or replaced.
    if (lane === 'teacher') this.retireDistill('its teacher was replaced');
    const previous = this.runs[lane];
    // A replaced distillation's student stays scorable in the trust panel.
    if (lane === 'distill' && previous) this.visitModels.keep(previous, this.dataset?.train.count ?? 0);
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

  /** What is training now, as messages name it. */
  private runningName(): string | null {
    if (this.runs.teacher?.isRunning) return 'the teacher is training';
    if (this.runs.student?.isRunning) return 'the student is training';
    if (this.runs.distill?.isRunning) return 'a distillation is running';
    if (this.sweep.isRunning) return 'a sweep is running';
    if (this.mutual.isRunning) return 'a mutual-learning run is training';
    return null;
  }

  /** One run trains at a time: two would share one device and each would crawl. */
  private refuseWhileTraining(what: string): void {
    if (this.ood.isRunning) throw new Error(`the OoD analysis is running; cancel it before you ${what}`);
    if (this.starting)
      throw new Error(`a run is being set up; let it start, then pause it before you ${what}`);
    const running = this.runningName();
    // A sweep has no pause: its finished cells are kept and Resume runs the rest.
    if (running)
      throw new Error(`${running}; ${this.sweep.isRunning ? 'cancel' : 'pause'} it before you ${what}`);
  }

  private activate(dataset: Dataset): DatasetSummary {
    this.dataset = dataset;
    return summarizeDataset(dataset);
  }
}
