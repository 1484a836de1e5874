/** The trust panel's results as plain data (what the Worker sends to the UI); computed in oodLab.ts. */
import type { ReliabilityBin } from '../metrics/calibration';
import type { RunLane } from '../run/runTypes';
import type { Fidelity, HistogramBin } from './oodReport';
import type { OodScore } from './scoreImages';

export type { Fidelity, HistogramBin, OodScore, ReliabilityBin };

export interface OodSetInfo {
  readonly id: string;
  readonly name: string;
  /** Images scored against the test split. */
  readonly count: number;
  readonly uploaded: boolean;
}

export interface OodModelInfo {
  readonly key: string;
  readonly label: string;
  readonly role: 'teacher' | 'student';
  /** The panel whose run this model is, as that run's weights now (the run history keeps the result with it). */
  readonly lane?: RunLane;
}

export interface OodModelResult extends OodModelInfo {
  /** Which anchors u(x) used, in words. */
  readonly anchors: string;
  readonly accuracy: number;
  readonly ece: number;
  readonly reliability: readonly ReliabilityBin[];
  /** Against the teacher on the test split (students only, when there is a teacher). */
  readonly fidelity: Fidelity | null;
  /** AUROC of each score at flagging the model's wrong predictions on the test split. */
  readonly misclassification: Readonly<Record<OodScore, number>>;
}

/** One model x OoD set x score. */
export interface OodRow {
  readonly model: string;
  readonly set: string;
  readonly score: OodScore;
  readonly auroc: number;
  readonly aupr: number;
  readonly fpr95: number;
  readonly histogram: readonly HistogramBin[];
  /** [fpr, tpr] points. */
  readonly roc: readonly (readonly [number, number])[];
}

export interface OodResult {
  readonly datasetName: string;
  readonly testCount: number;
  /** The scores in the order shown, with their labels. */
  readonly scores: readonly { readonly id: OodScore; readonly label: string }[];
  readonly sets: readonly OodSetInfo[];
  readonly models: readonly OodModelResult[];
  readonly rows: readonly OodRow[];
  readonly seconds: number;
}
