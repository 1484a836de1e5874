import { getBackend } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend/chooseBackend';
import {
  type DistillConfig,
  type DistillMethodInfo,
  distillMethodInfos,
  DistillRun,
  type DistillRunListener,
  parseDistillConfig,
} from './distill/distillRun';
import { type BackendReport, type InitBackendOptions, initBackend } from './backend/initBackend';
import type { Dataset } from './data/cifar10';
import { loadPreparedSet, type PreparedSetId } from './data/prepared';
import { type SampleImage, sampleImages } from './data/samples';
import { type DatasetSummary, summarizeDataset } from './data/stats';
import { datasetFromUploads, type UploadedFile } from './data/upload';
import type { ModelRole } from './models/presets';
import { CHECKPOINT_FILES, type RunState } from './training/checkpoint';
import { parseTrainConfig, type TrainConfig } from './training/hyperparams';
import {
  accuracyInSlices,
  exportModel,
  loadTeacher,
  type NamedFile,
  type PresetInfo,
  presetInfos,
} from './training/labModels';
import { memoryRunSlot, type RunSlot, type RunSlots } from './training/savedRuns';
import type { EpochLog, StepLog } from './training/trainer';
import {
  logEveryFor,
  readRunContext,
  type RunEnd,
  type RunListener,
  type RunPosition,
  TrainingRun,
  type YieldToHost,
} from './training/trainingRun';

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
  /** Top-1 accuracy on the test split of `datasetId`; null until measured. NaN: that split is empty. */
  readonly testAccuracy: number | null;
  readonly datasetId: string | null;
}

/** A saved run, as the resume offer describes it. */
export interface SavedRunSummary {
  readonly role: ModelRole;
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
  readonly config: TrainConfig;
  readonly steps: readonly StepLog[];
  readonly epochs: readonly EpochLog[];
  readonly position: RunPosition;
  readonly finished: boolean;
}

/** A distillation's set-up, reported before its first step. */
export interface DistillSetup {
  /** Seconds the method took to set up (AKD: choosing its anchors with the teacher over the training split). */
  readonly seconds: number;
  /** Training records whose labels the run uses (the label fraction, class-balanced). */
  readonly labelledCount: number;
  readonly trainCount: number;
  /** The teacher distilled from; null for `ce`, which needs none. */
  readonly teacher: TeacherInfo | null;
}

/** What a distillation reports to its host: the run's logs and timing, and its set-up once done. */
export interface DistillSessionListener extends DistillRunListener {
  ready(setup: DistillSetup): void;
}

interface LoadedTeacher {
  readonly model: tf.LayersModel;
  info: TeacherInfo;
}

const nextTimerTurn: YieldToHost = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The engine's state for one lab: the backend, the active dataset, the teacher and the two roles' training
 * runs. Hosts (the Worker, tests) call it; every method either succeeds or throws with a message ready to show,
 * leaving the active dataset and the current models as they were.
 */
export class LabSession {
  private dataset: Dataset | null = null;
  private presetList: PresetInfo[] | null = null;
  private readonly runs: Record<ModelRole, TrainingRun | null> = { teacher: null, student: null };
  /** A shipped or imported teacher; a teacher run, once started, takes its place. */
  private loadedTeacher: LoadedTeacher | null = null;
  private readonly slots: Record<ModelRole, RunSlot>;
  private readonly yieldToHost: YieldToHost;
  /** The distillation run (one at a time), with the teacher model it distils from (null for `ce`). */
  private distill: { readonly run: DistillRun; readonly teacher: tf.LayersModel | null } | null = null;
  /** Why the last distillation was ended by the engine (its teacher was replaced), for a later Resume. */
  private distillEndedBecause: string | null = null;
  /** A distillation is being set up (AKD's anchor selection takes a while): nothing else may start. */
  private distillStarting = false;

  constructor(private readonly host: SessionHost) {
    this.slots = host.runSlots
      ? { teacher: host.runSlots('teacher'), student: host.runSlots('student') }
      : { teacher: memoryRunSlot(), student: memoryRunSlot() };
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

  /** Starts a new run for `config.role` on the active dataset; resolves when it pauses, stops or ends. */
  async startRun(config: TrainConfig, listener: RunListener): Promise<RunEnd> {
    this.refuseWhileTraining(`start the ${config.role}`);
    // The Worker is where settings are trusted: check them here too, with the same reasons as the form.
    const run = await TrainingRun.start(
      parseTrainConfig({ ...config, logEvery: logEveryFor(getBackend()) }),
      this.activeDataset(),
      this.slots[config.role],
    );
    try {
      // Another request may have started a run while this one was being set up.
      this.refuseWhileTraining(`start the ${config.role}`);
    } catch (error) {
      run.dispose();
      throw error;
    }
    this.replaceRun(config.role, run);
    return run.run(listener, this.yieldToHost);
  }

  /** Continues a paused run (after a non-finite loss: from its last checkpoint). */
  async resumeRun(role: ModelRole, listener: RunListener): Promise<RunEnd> {
    const run = this.runs[role];
    if (!run) throw new Error(`there is no ${role} run to resume`);
    this.refuseWhileTraining(`resume the ${role}`);
    // Training the teacher on changes the teacher a paused distillation was distilling from.
    if (role === 'teacher') this.retireDistill('the teacher went on training');
    return run.run(listener, this.yieldToHost);
  }

  /** Asks a running run to pause after its current step; its `startRun`/`resumeRun` call then resolves. */
  pauseRun(role: ModelRole): void {
    this.runs[role]?.requestPause();
  }

  /** Ends a run; a running one saves a checkpoint at its next step boundary. The trained model stays. */
  stopRun(role: ModelRole): void {
    this.runs[role]?.stop();
  }

  /** Every distillation method with its declared parameters, as plain data for the UI. */
  distillMethods(): DistillMethodInfo[] {
    return distillMethodInfos();
  }

  /**
   * Starts a distillation on the active dataset from the current teacher (shipped, imported or trained here;
   * `ce` needs none); resolves when it pauses or ends. A previous distillation, paused or ended, is replaced.
   */
  async startDistill(config: DistillConfig, listener: DistillSessionListener): Promise<RunEnd> {
    this.refuseWhileTraining('start a distillation');
    // Checked here too, with the same reasons as the form.
    const settings = parseDistillConfig({
      ...config,
      train: { ...config.train, role: 'student', logEvery: logEveryFor(getBackend()) },
    });
    const dataset = this.activeDataset();
    const teacher = settings.method === 'ce' ? null : this.currentTeacher();
    if (settings.method !== 'ce' && !teacher)
      throw new Error(
        'there is no teacher to distil from: load the shipped teacher, import one, or train one in the Teacher panel',
      );
    this.replaceDistill(null);
    this.distillStarting = true;
    let run: DistillRun;
    try {
      run = await DistillRun.start(settings, dataset, teacher?.model ?? null);
    } finally {
      this.distillStarting = false;
    }
    this.distill = { run, teacher: teacher?.model ?? null };
    listener.ready({
      seconds: run.setupSeconds,
      labelledCount: run.labelledCount,
      trainCount: dataset.train.count,
      teacher: teacher ? { ...teacher.info } : null,
    });
    return run.run(listener, this.yieldToHost);
  }

  /** Continues the paused distillation. */
  async resumeDistill(listener: DistillRunListener): Promise<RunEnd> {
    const current = this.distill;
    if (!current || current.run.isFinished)
      throw new Error(this.distillEndedBecause ?? 'there is no paused distillation to resume; start one');
    this.refuseWhileTraining('resume the distillation');
    return current.run.run(listener, this.yieldToHost);
  }

  pauseDistill(): void {
    this.distill?.run.requestPause();
  }

  /** Ends the distillation (a running one at its next step boundary); its student stays until the next one. */
  stopDistill(): void {
    this.distill?.run.stop();
  }

  async savedRun(role: ModelRole): Promise<SavedRunSummary | null> {
    const slot = this.slots[role];
    if (!(await slot.exists())) return null;
    const run = JSON.parse(new TextDecoder().decode(await slot.read(CHECKPOINT_FILES.state))) as RunState;
    const context = await readRunContext(slot);
    const last = run.state.epochs[run.state.epochs.length - 1];
    return {
      role,
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

  /** Loads the role's saved run as a paused run (the active dataset must be the one it trains on). */
  async restoreSavedRun(role: ModelRole): Promise<RestoredRun> {
    this.refuseWhileTraining(`restore the ${role}`);
    const run = await TrainingRun.restore(this.slots[role], this.activeDataset(), logEveryFor(getBackend()));
    this.replaceRun(role, run);
    const { config, state } = run;
    return {
      config,
      steps: state.steps,
      epochs: state.epochs,
      position: run.position(),
      finished: run.isFinished,
    };
  }

  async discardSavedRun(role: ModelRole): Promise<void> {
    if (this.runs[role]?.isRunning) throw new Error(`the ${role} is training; stop it first`);
    await this.slots[role].clear();
  }

  /** The role's current model as model.json + weights.bin. */
  async exportModel(role: ModelRole): Promise<NamedFile[]> {
    if (role === 'teacher') {
      const teacher = this.currentTeacher();
      if (!teacher) throw new Error('there is no teacher to export yet');
      return exportModel(teacher.model, teacher.info.preset, 'teacher');
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

  /** The teacher's accuracy on the active dataset's test split, measured now. */
  measureTeacher(): Promise<TeacherInfo> {
    return this.inTurn(async () => {
      const teacher = this.currentTeacher();
      if (!teacher) throw new Error('there is no teacher yet');
      const dataset = this.activeDataset();
      const testAccuracy = await accuracyInSlices(teacher.model, dataset.test, this.yieldToHost);
      teacher.info = { ...teacher.info, testAccuracy, datasetId: dataset.id };
      return teacher.info;
    });
  }

  private async useTeacherFiles(files: TeacherFiles, source: 'shipped' | 'imported'): Promise<TeacherInfo> {
    const run = this.runs.teacher;
    if (run?.isRunning) throw new Error('the teacher is training; pause or stop it first');
    if (this.distillStarting || this.distill?.run.isRunning)
      throw new Error('a distillation is running from the current teacher; pause or stop it first');
    const { model, preset } = await loadTeacher(files.modelJson, files.weights, files.name);
    if (source === 'shipped' && run && !run.isFinished) {
      // A teacher run resumed while the shipped teacher was loading outranks it.
      model.dispose();
      return this.currentTeacher()!.info;
    }
    this.replaceRun('teacher', null);
    this.loadedTeacher?.model.dispose();
    this.loadedTeacher = {
      model,
      info: { source, preset, name: files.name, testAccuracy: null, datasetId: null },
    };
    return this.measureTeacher();
  }

  /** The teacher run's model while there is one, else the loaded teacher. */
  private currentTeacher(): LoadedTeacher | null {
    const run = this.runs.teacher;
    if (run) {
      const last = run.state.epochs[run.state.epochs.length - 1];
      return {
        model: run.model,
        info: {
          source: 'trained',
          preset: run.config.model,
          name: `${run.config.model} trained here`,
          testAccuracy: last?.testAccuracy ?? null,
          datasetId: last ? run.datasetId : null,
        },
      };
    }
    return this.loadedTeacher;
  }

  private replaceRun(role: ModelRole, run: TrainingRun | null): void {
    // The teacher model a paused distillation uses is about to be freed or replaced.
    if (role === 'teacher') this.retireDistill('its teacher was replaced');
    this.runs[role]?.dispose();
    this.runs[role] = run;
    if (role === 'teacher' && run) {
      this.loadedTeacher?.model.dispose();
      this.loadedTeacher = null;
    }
  }

  private replaceDistill(next: { run: DistillRun; teacher: tf.LayersModel | null } | null): void {
    this.distill?.run.dispose();
    this.distill = next;
    this.distillEndedBecause = null;
  }

  /** Ends a distillation whose teacher changes or goes away (a `ce` run has none and goes on). */
  private retireDistill(why: string): void {
    if (!this.distill?.teacher) return;
    this.replaceDistill(null);
    this.distillEndedBecause = `the distillation has ended: ${why}; start a new one`;
  }

  /** What is training now, as messages name it. */
  private runningName(): string | null {
    if (this.runs.teacher?.isRunning) return 'the teacher is training';
    if (this.runs.student?.isRunning) return 'the student is training';
    if (this.distill?.run.isRunning) return 'a distillation is running';
    return null;
  }

  /** One run trains at a time: two would share one device and each would crawl. */
  private refuseWhileTraining(what: string): void {
    if (this.distillStarting)
      throw new Error(`a distillation is being set up; let it start, then pause it before you ${what}`);
    const running = this.runningName();
    if (running) throw new Error(`${running}; pause it before you ${what}`);
  }

  private activate(dataset: Dataset): DatasetSummary {
    this.dataset = dataset;
    return summarizeDataset(dataset);
  }
}
