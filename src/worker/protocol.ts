/**
 * The only door between the UI and the engine: what the Worker exposes (through comlink). Plain data in and
 * out; errors arrive as rejected promises whose message is ready to show. Type-only imports: the UI bundle
 * gets no tfjs from here.
 */
import type { BackendName } from '../engine/backend/chooseBackend';
import type { BackendReport } from '../engine/backend/initBackend';
import type { PreparedSetId } from '../engine/data/prepared';
import type { DistillStepBenchmark, StepBenchmark, StepBenchmarkOptions } from '../engine/benchmark';
import type {
  AnchorGalleryView,
  AnchorNeighbours,
  GalleryAnchor,
  GalleryImage,
} from '../engine/distill/anchorGallery';
import type { DistillConfig, DistillMethodInfo } from '../engine/run/runSpec';
import type { MethodParam } from '../engine/distill/method';
import type { SampleImage } from '../engine/data/samples';
import type { DatasetSummary } from '../engine/data/stats';
import type { SplitLogits, StudentSource } from '../engine/explorer/splitLogits';
import type { OodProgress, OodRequest } from '../engine/ood/oodLab';
import type {
  HistogramBin,
  OodModelInfo,
  OodModelResult,
  OodResult,
  OodRow,
  OodScore,
  OodSetInfo,
  ReliabilityBin,
} from '../engine/ood/oodTypes';
import type { ModelRole } from '../engine/models/presets';
import type { ReportCard } from '../engine/report/reportCard';
import type {
  DistillSetup,
  RestoredRun,
  SavedRunSummary,
  TeacherInfo,
  TeacherMeasurement,
} from '../engine/session';
import type { TrainConfig } from '../engine/training/hyperparams';
import type { NamedFile, PresetInfo } from '../engine/training/labModels';
import type { EpochLog, StepLog } from '../engine/training/trainer';
import type { RunEnd, RunLane, RunPosition } from '../engine/run/runTypes';
import type { ProgressUpdate } from './progress';
import type { SweepEnd, SweepRequest } from '../engine/config/sweep';
import type { SweepListener } from '../engine/run/sweepRun';
import type { MutualRequest, MutualResult } from '../engine/schemes/mutualLab';
import type { MultiEpochLog, MultiStepLog } from '../engine/schemes/multiTrainer';

export type {
  AnchorGalleryView,
  AnchorNeighbours,
  GalleryAnchor,
  GalleryImage,
  BackendName,
  BackendReport,
  DatasetSummary,
  DistillConfig,
  DistillMethodInfo,
  DistillSetup,
  EpochLog,
  MethodParam,
  ModelRole,
  NamedFile,
  PreparedSetId,
  PresetInfo,
  ProgressUpdate,
  ReportCard,
  RestoredRun,
  RunEnd,
  RunLane,
  RunPosition,
  SampleImage,
  SavedRunSummary,
  StepBenchmark,
  SplitLogits,
  StepLog,
  StudentSource,
  TeacherInfo,
  TeacherMeasurement,
  TrainConfig,
};

/** What the Teacher and Student panels run: the model on its labels alone (the registry's `ce` method). */
export const TRAIN_ON_LABELS = { method: 'ce', params: {}, labelledFraction: 1 } as const;

/** A run's progress: the trainer's, plus the mean time of a step (warm-up excluded). */
export interface RunProgress extends ProgressUpdate {
  /** Mean milliseconds per training step so far; null until measured. */
  readonly msPerStep: number | null;
}

/** Where a run reports to, passed wrapped in `Comlink.proxy`. */
export interface RunProgressListener {
  /** The method is set up (AKD: its anchors chosen) and the first step is next. Sent once, by a start. */
  ready(setup: DistillSetup): void;
  progress(update: RunProgress): void;
  /** The run went back to its last good checkpoint (resuming after a non-finite loss): curves start over from these. */
  rewound(restored: Pick<RestoredRun, 'steps' | 'epochs' | 'position'>): void;
  /** A checkpoint was written where the run stands now (epoch end, pause, stop, or the 30 s save). */
  saved(position: RunPosition): void;
}

/** Where an anchor preview reports how many training images the teacher has read (Comlink.proxy). */
export type {
  HistogramBin,
  OodModelInfo,
  OodModelResult,
  OodProgress,
  OodRequest,
  OodResult,
  OodRow,
  OodScore,
  OodSetInfo,
  ReliabilityBin,
};

/** Where an OoD analysis reports its progress (wrapped in `Comlink.proxy`): a few updates a second at most. */
export interface OodListener {
  progress(progress: OodProgress): void;
}

export interface AnchorPreviewListener {
  progress(done: number, total: number): void;
}

export type { SweepListener };
export type { MultiEpochLog, MultiStepLog, MutualRequest, MutualResult };

/** Where a mutual-learning run reports (Comlink.proxy): step logs in batches, a few times a second at most. */
export interface MutualProgressListener {
  steps(logs: MultiStepLog[]): void;
  epoch(log: MultiEpochLog): void;
}

export interface EngineApi {
  initBackend(requested?: BackendName): Promise<BackendReport>;
  usePreparedSet(id: PreparedSetId): Promise<DatasetSummary>;
  /** Files are read and parsed in the Worker; on any error the active dataset stays. */
  useUploads(files: File[]): Promise<DatasetSummary>;
  samples(count: number, seed: number): Promise<SampleImage[]>;

  /** Every model preset with its parameter count and FLOPs per image. */
  presets(): Promise<PresetInfo[]>;
  /**
   * Starts a run in a lane on the active dataset: the Teacher and Student panels train on labels (`ce`), the
   * Distillation panel by any method from the current teacher. Resolves when the run pauses or ends; bad
   * settings are refused with the form's reasons. The lane's previous run is replaced.
   */
  startRun(lane: RunLane, config: DistillConfig, listener: RunProgressListener): Promise<RunEnd>;
  /** Continues the lane's paused run; resolves when it pauses again or ends. */
  resumeRun(lane: RunLane, listener: RunProgressListener): Promise<RunEnd>;
  /** Asks the lane's run to pause after its current step; its start/resume call then resolves 'paused'. */
  pauseRun(lane: RunLane): Promise<void>;
  /** Ends the lane's run (saving a checkpoint when it is running); the trained model stays. */
  stopRun(lane: RunLane): Promise<void>;
  /** The runs saved in this browser (one per lane at most), for the resume offer. */
  savedRuns(): Promise<SavedRunSummary[]>;
  /** Loads the lane's saved run as a paused run: its settings, curves and position. */
  restoreSavedRun(lane: RunLane): Promise<RestoredRun>;
  discardSavedRun(lane: RunLane): Promise<void>;
  /** The role's current model as model.json + weights.bin. */
  exportModel(role: ModelRole): Promise<NamedFile[]>;
  /**
   * The shipped teacher, loaded (not measured: an accuracy stored with it shows at once; `measureTeacher`
   * confirms it afterwards); null when the lab ships none.
   */
  loadShippedTeacher(): Promise<TeacherInfo | null>;
  /** A teacher from two chosen files (model .json + weights); on any error the current teacher stays. */
  importTeacher(files: File[]): Promise<TeacherInfo>;
  /** The current teacher's accuracy on the active test split, measured now; a run starting cancels it. */
  measureTeacher(): Promise<TeacherMeasurement>;
  /** The current teacher with its accuracy on the active dataset where known (stored or measured); null: none. */
  teacherInfo(): Promise<TeacherInfo | null>;
  /** Stops a teacher measurement in flight (it then resolves 'cancelled'). */
  cancelTeacherMeasurement(): Promise<void>;
  /** Every distillation method (registry order) with its declared parameters, as plain data. */
  distillMethods(): Promise<DistillMethodInfo[]>;
  /**
   * The current teacher's logits on every test image of the active dataset (the temperature explorer's cache:
   * computed once per teacher, dataset and weights, in slices); `logits` and `labels` are transferred.
   */
  teacherLogits(): Promise<SplitLogits>;
  /** As teacherLogits, for the latest distillation's student or the Student panel's model. */
  studentLogits(source: StudentSource): Promise<SplitLogits>;
  /** The current teacher's anchors by AKD's rule, `perClass` per class, before any training (the gallery). */
  previewAnchors(perClass: number, listener: AnchorPreviewListener): Promise<AnchorGalleryView>;
  /** The latest distillation's anchors with their masks now (final once it ended); null: its method has none. */
  runAnchors(): Promise<AnchorGalleryView | null>;
  /** A training image's 8 nearest in the teacher's feature space and the 8 least central of its class. */
  anchorNeighbours(record: number): Promise<AnchorNeighbours>;
  /** Chosen test images of the active dataset (by index), ready to draw. */
  testImages(indices: number[]): Promise<SampleImage[]>;
  /** The models the trust panel can score now: the teacher and every student of the visit. */
  oodModels(): Promise<OodModelInfo[]>;
  /** The OoD sets to choose from: MNIST, seeded noise, and uploads. */
  oodSets(): Promise<OodSetInfo[]>;
  /** Adds an uploaded OoD set (read and decoded in the Worker); a bad file is refused, the loaded sets stay. */
  addOodSet(files: File[]): Promise<OodSetInfo>;
  /** Scores models on the test split and OoD sets (cached per model and set); null when cancelled. */
  runOod(request: OodRequest, listener: OodListener): Promise<OodResult | null>;
  /** Ends the OoD analysis in flight at its next batch. */
  cancelOod(): Promise<void>;
  /**
   * The report card of the current teacher and the latest distillation's student: costs, saved sizes, latency at
   * batch 1 and 64 on the active backend, test accuracy and the ratios; refused while a run trains.
   */
  reportCard(): Promise<ReportCard>;
  /**
   * The T x alpha sweep (config/sweep.ts): the asked cells one after another from the current teacher, each a
   * short run scored on the test split, reported as it finishes (cellStep throttled); resolves at the end or
   * after cancelSweep. Refused while anything else trains.
   */
  runSweep(request: SweepRequest, listener: SweepListener): Promise<SweepEnd>;
  cancelSweep(): Promise<void>;
  /**
   * Trains 2-4 student presets together by deep mutual learning on the active dataset (in memory, one run at a
   * time); resolves at the end or after stopMutual with each model's final test accuracy.
   */
  runMutual(request: MutualRequest, listener: MutualProgressListener): Promise<MutualResult>;
  stopMutual(): Promise<void>;
  /** Training-step speed of a preset on the active backend (for `npm run bench`; not used by the UI). */
  benchmark(presetId: string, options: StepBenchmarkOptions): Promise<StepBenchmark>;
  /**
   * A distillation method's step on the active backend, with the teacher's pass in its own Worker where the lab
   * would run it there, unless `inline` (for scripts/bench-teacher-ahead.ts; not used by the UI).
   */
  benchmarkDistill(
    methodId: string,
    options: {
      student?: string;
      batchSize?: number;
      warmupSteps?: number;
      timedSteps?: number;
      inline?: boolean;
    },
  ): Promise<DistillStepBenchmark>;
}
