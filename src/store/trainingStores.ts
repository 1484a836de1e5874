import { create } from 'zustand';
import type { ModelRole, PresetInfo, TeacherInfo } from '../worker/protocol';
import { initialRoleTraining, isActive, type RoleTraining } from './trainingState';

/** The model presets with their costs, measured in the Worker; null until it has answered. */
export const usePresetStore = create<{ readonly presets: readonly PresetInfo[] | null }>(() => ({
  presets: null,
}));

export const useTrainingStore = create<Record<ModelRole, RoleTraining>>(() => ({
  teacher: initialRoleTraining(),
  student: initialRoleTraining(),
}));

export const updateRole = (role: ModelRole, update: (state: RoleTraining) => RoleTraining): void =>
  useTrainingStore.setState((s) => ({ [role]: update(s[role]) }));

/** The role whose run is under way, if any: one trains at a time. */
export function activeRole(state: Record<ModelRole, RoleTraining>): ModelRole | null {
  if (isActive(state.teacher.status)) return 'teacher';
  if (isActive(state.student.status)) return 'student';
  return null;
}

export interface TeacherState {
  /** Whether the lab ships a teacher: unknown until the Worker has looked. */
  readonly shipped: 'unknown' | 'available' | 'missing';
  /** Loading a teacher: distillation waits for this, never for a measurement. */
  readonly loading: boolean;
  /** Measuring the teacher's test accuracy in the background (cancellable; a run starting cancels it). */
  readonly measuring: boolean;
  /** The last measurement was cancelled (by the user or a run): the accuracy shown is the stored one, or none. */
  readonly measurementCancelled: boolean;
  readonly info: TeacherInfo | null;
}

export const useTeacherStore = create<TeacherState>(() => ({
  shipped: 'unknown',
  loading: false,
  measuring: false,
  measurementCancelled: false,
  info: null,
}));
