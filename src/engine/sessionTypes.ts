/**
 * What the lab's session (session.ts) takes from its host and hands back to it: the host's hooks, the
 * teacher's description, saved and restored runs, a run's set-up. Plain types, shared by the Worker protocol.
 */
import type { InitBackendOptions } from './backend/initBackend';
import type { TeacherHostFactory } from './distill/teacherAhead';
import type { TrainConfig } from './training/hyperparams';
import type { RunSlots } from './training/savedRuns';
import type { EpochLog, StepLog } from './training/trainer';
import type { RunLane, RunListener, RunPosition, YieldToHost } from './run/runTypes';

export interface SessionHost extends InitBackendOptions {
  /** Reads a prepared data file by its path under data/ (fetch in a Worker, fs in Node). */
  readonly readPreparedFile: (relativePath: string) => Promise<Uint8Array>;
  /** Where runs are saved across sessions (IndexedDB in the browser); memory when left out. */
  readonly runSlots?: RunSlots;
  /** The lab's shipped teacher (model.json + weights), or null when none is shipped. */
  readonly readShippedTeacher?: () => Promise<TeacherFiles | null>;
  /** Lets the host handle queued requests (a pause) during long work; a timer turn when left out. */
  readonly yieldToHost?: YieldToHost;
  /** Starts a thread for the teacher's pass beside the student's step (distill/teacherAhead.ts); none: in line. */
  readonly teacherHost?: TeacherHostFactory;
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
  /** Whether the teacher's pass runs a batch ahead on a thread of its own (distill/teacherAhead.ts). */
  readonly teacherAhead: boolean;
}

/** What a run reports to its host: the run's logs, timing and checkpoints, and its set-up once done. */
export interface SessionRunListener extends RunListener {
  ready?(setup: DistillSetup): void;
}
