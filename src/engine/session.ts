import { getBackend } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend/chooseBackend';
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

  constructor(private readonly host: SessionHost) {
    this.slots = host.runSlots
      ? { teacher: host.runSlots('teacher'), student: host.runSlots('student') }
      : { teacher: memoryRunSlot(), student: memoryRunSlot() };
    this.yieldToHost = host.yieldToHost ?? nextTimerTurn;
  }

  async initBackend(requested?: BackendName): Promise<BackendReport> {
    this.refuseWhileTraining('change the backend');
    return initBackend(requested, this.host);
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
  async measureTeacher(): Promise<TeacherInfo> {
    const teacher = this.currentTeacher();
    if (!teacher) throw new Error('there is no teacher yet');
    const dataset = this.activeDataset();
    const testAccuracy = await accuracyInSlices(teacher.model, dataset.test, this.yieldToHost);
    teacher.info = { ...teacher.info, testAccuracy, datasetId: dataset.id };
    return teacher.info;
  }

  private async useTeacherFiles(files: TeacherFiles, source: 'shipped' | 'imported'): Promise<TeacherInfo> {
    const run = this.runs.teacher;
    if (run?.isRunning) throw new Error('the teacher is training; pause or stop it first');
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
    this.runs[role]?.dispose();
    this.runs[role] = run;
    if (role === 'teacher' && run) {
      this.loadedTeacher?.model.dispose();
      this.loadedTeacher = null;
    }
  }

  private runningRole(): ModelRole | null {
    if (this.runs.teacher?.isRunning) return 'teacher';
    if (this.runs.student?.isRunning) return 'student';
    return null;
  }

  /** One run trains at a time: two would share one device and each would crawl. */
  private refuseWhileTraining(what: string): void {
    const running = this.runningRole();
    if (running) throw new Error(`the ${running} is training; pause it before you ${what}`);
  }

  private activate(dataset: Dataset): DatasetSummary {
    this.dataset = dataset;
    return summarizeDataset(dataset);
  }
}
