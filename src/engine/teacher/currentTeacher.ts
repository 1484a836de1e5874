/**
 * The teacher the lab distils from: a teacher run's model while there is one, else a loaded (shipped or
 * imported) model with the accuracies known for it. How the UI describes it and what its exports carry.
 * Pure over the model handles: no training, no reads from the device.
 */
import type * as tf from '@tensorflow/tfjs';
import { isPreparedSetId } from '../data/prepared';
import type { LabRun } from '../run/labRun';
import type { RunTeacher } from '../run/labRun';
import type { RunPosition } from '../run/runTypes';
import type { TeacherInfo } from '../sessionTypes';
import type { KnownBySet, StoredAnchors } from '../training/checkpoint';

export interface LoadedTeacher {
  readonly model: tf.LayersModel;
  readonly source: 'shipped' | 'imported';
  readonly preset: string;
  readonly name: string;
  /** Known test accuracies by dataset id: stored with the model, then measured here. */
  readonly accuracies: Map<string, { value: number; source: 'stored' | 'measured' }>;
  /**
   * Its anchors for u(x) by dataset id (1 per class by AKD's rule): stored with the model, or chosen here by the
   * trust panel; either way they go with the model when it is exported.
   */
  readonly anchors: Map<string, { anchors: StoredAnchors; source: 'stored' | 'chosen' }>;
}

/** The teacher distillation uses: a teacher run's model, or a loaded (shipped or imported) one. */
export type CurrentTeacher =
  | { readonly kind: 'run'; readonly model: tf.LayersModel; readonly run: LabRun }
  | { readonly kind: 'loaded'; readonly model: tf.LayersModel; readonly loaded: LoadedTeacher };

/** A run's position as the explorer names a model's weights: "epoch 2 of 3, step 40". */
export const positionText = (p: RunPosition): string =>
  `epoch ${p.completedEpochs} of ${p.epochs}${p.stepInEpoch ? `, step ${p.stepInEpoch}` : ''}`;

/** Which weights of the teacher: a loaded one never changes; a teacher run's move with its position. */
export const teacherVersion = (teacher: CurrentTeacher): string =>
  teacher.kind === 'run' ? positionText(teacher.run.position()) : 'fixed';

/** The teacher run's model while there is one, else the loaded teacher. */
export function currentTeacherOf(run: LabRun | null, loaded: LoadedTeacher | null): CurrentTeacher | null {
  if (run) return { kind: 'run', model: run.model, run };
  return loaded ? { kind: 'loaded', model: loaded.model, loaded } : null;
}

/** Test accuracies and anchors known for a teacher, by prepared set id, for its metadata when exported. */
export function knownBySet(teacher: CurrentTeacher): KnownBySet {
  const testAccuracy: Record<string, number> = {};
  const anchors: Record<string, StoredAnchors> = {};
  if (teacher.kind === 'loaded') {
    for (const [id, { value }] of teacher.loaded.accuracies)
      if (isPreparedSetId(id)) testAccuracy[id] = value;
    for (const [id, known] of teacher.loaded.anchors) if (isPreparedSetId(id)) anchors[id] = known.anchors;
  } else {
    const last = teacher.run.state.epochs.at(-1);
    if (last && isPreparedSetId(teacher.run.datasetId) && Number.isFinite(last.testAccuracy))
      testAccuracy[teacher.run.datasetId] = last.testAccuracy;
  }
  return { testAccuracy, anchors };
}

/** The teacher as the UI shows it, with its accuracy on `datasetId` when known (or just `measured`). */
export function teacherInfoOf(
  teacher: CurrentTeacher,
  datasetId: string | null,
  measured?: number,
): TeacherInfo {
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

/** The teacher as a run records it in its checkpoint, with its anchors on the run's dataset when known. */
export function runTeacherOf(teacher: CurrentTeacher, datasetId: string | null): RunTeacher {
  const info = teacherInfoOf(teacher, datasetId);
  const known =
    teacher.kind === 'loaded' && datasetId !== null ? teacher.loaded.anchors.get(datasetId) : undefined;
  return {
    model: teacher.model,
    preset: info.preset,
    source: info.name,
    ...(known ? { knownAnchors: known.anchors } : {}),
  };
}
