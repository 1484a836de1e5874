/**
 * The temperature explorer's state and its pure transitions (unit-tested): the cached logits of the teacher
 * and of a student on the active test split (from the Worker, once), the temperature, the images offered in
 * the picker and the one shown, and lecture mode. Every number the panel shows is computed from these by the
 * engine's pure functions (src/engine/distill/temperature.ts); moving T never asks the Worker for anything.
 */
import { seededRandom, shuffled } from '../engine/config/random';
import { MAX_TEMPERATURE, MIN_TEMPERATURE, mostUncertain } from '../engine/config/temperature';
import type { SampleImage, SplitLogits, StudentSource } from '../worker/protocol';

/** Which test images the picker offers: a shuffle of all, one class, or those the teacher is least sure of. */
export type PickMode =
  | { readonly kind: 'all' }
  | { readonly kind: 'class'; readonly classIndex: number }
  | { readonly kind: 'confused' };

export type LogitsStatus = 'idle' | 'loading' | 'ready' | 'failed';

export interface ExplorerState {
  readonly teacher: SplitLogits | null;
  readonly teacherStatus: LogitsStatus;
  /** Why there are no teacher logits (no teacher yet, or the Worker's error). */
  readonly teacherMessage: string | null;
  readonly student: SplitLogits | null;
  readonly studentSource: StudentSource;
  /** A finished distillation shown instead of the live source: its run id (the Distillation panel's numbering). */
  readonly pinnedRun: number | null;
  /**
   * The final logits of every distillation that finished during this visit, by run id: the engine keeps only
   * the latest run's student, the explorer keeps what it needs of the others.
   */
  readonly finishedStudents: Readonly<Record<number, SplitLogits>>;
  readonly studentStatus: LogitsStatus;
  readonly studentMessage: string | null;
  readonly temperature: number;
  readonly pick: PickMode;
  /** Seed of the picker's shuffle and of "random image". */
  readonly seed: number;
  /** Test indices offered in the picker's grid. */
  readonly candidates: readonly number[];
  /** Drawable images of the candidates and of the shown image, by test index. */
  readonly images: Readonly<Record<number, SampleImage>>;
  /** The test image shown; null before the teacher's logits arrive. */
  readonly selected: number | null;
  /** Lecture mode: the explorer full screen, large, keyboard-driven. */
  readonly present: boolean;
}

/** Images in the picker's grid. */
export const GRID_SIZE = 24;
/** The explorer opens at the temperature of RepDistiller's CIFAR recipe. */
export const START_TEMPERATURE = 4;
/** One arrow key press: a quarter of an octave of T. */
export const TEMPERATURE_KEY_STEP = 0.25;

export const initialExplorerState = (present = false): ExplorerState => ({
  teacher: null,
  teacherStatus: 'idle',
  teacherMessage: null,
  student: null,
  studentSource: 'distillation',
  pinnedRun: null,
  finishedStudents: {},
  studentStatus: 'idle',
  studentMessage: null,
  temperature: START_TEMPERATURE,
  pick: { kind: 'all' },
  seed: 1,
  candidates: [],
  images: {},
  selected: null,
  present,
});

/** The slider moves on log2(T): equal steps multiply T by the same factor. */
export const sliderOf = (temperature: number): number => Math.log2(temperature);
export const SLIDER_MIN = sliderOf(MIN_TEMPERATURE);
export const SLIDER_MAX = sliderOf(MAX_TEMPERATURE);

export const clampTemperature = (temperature: number): number =>
  Math.min(MAX_TEMPERATURE, Math.max(MIN_TEMPERATURE, temperature));

/** T from a slider position (log2 T), kept in range. */
export const temperatureOf = (slider: number): number => clampTemperature(2 ** slider);

/** T after `steps` arrow presses (negative: colder), kept in range. */
export const steppedTemperature = (temperature: number, steps: number): number =>
  temperatureOf(sliderOf(temperature) + steps * TEMPERATURE_KEY_STEP);

/** The test images the picker offers for a mode, from the teacher's logits. */
export function candidatesFor(pick: PickMode, teacher: SplitLogits, seed: number): number[] {
  const all = Array.from({ length: teacher.count }, (_, i) => i);
  switch (pick.kind) {
    case 'all':
      return shuffled(all, seededRandom(seed)).slice(0, GRID_SIZE);
    case 'class':
      return shuffled(
        all.filter((i) => teacher.labels[i] === pick.classIndex),
        seededRandom(seed),
      ).slice(0, GRID_SIZE);
    case 'confused':
      return mostUncertain(teacher.logits, teacher.classes, GRID_SIZE);
  }
}

/** New teacher logits: the picker is rebuilt; the shown image stays when it still exists. */
export function withTeacher(state: ExplorerState, teacher: SplitLogits): ExplorerState {
  const sameSplit = state.teacher?.datasetId === teacher.datasetId && state.teacher.count === teacher.count;
  const candidates = candidatesFor(state.pick, teacher, state.seed);
  const selected =
    sameSplit && state.selected !== null && state.selected < teacher.count
      ? state.selected
      : (candidates[0] ?? null);
  // Student logits of another split cannot be compared image by image.
  const student = state.student?.datasetId === teacher.datasetId ? state.student : null;
  const pinnedRun = student ? state.pinnedRun : null;
  return {
    ...state,
    teacher,
    teacherStatus: 'ready',
    teacherMessage: null,
    student,
    pinnedRun,
    candidates,
    images: sameSplit ? state.images : {},
    selected,
  };
}

/** Another picker mode or shuffle: new candidates; the first is shown. */
export function withPick(state: ExplorerState, pick: PickMode, seed = state.seed): ExplorerState {
  if (!state.teacher) return { ...state, pick, seed };
  const candidates = candidatesFor(pick, state.teacher, seed);
  return { ...state, pick, seed, candidates, selected: candidates[0] ?? state.selected };
}

/** One random test image (by the seed), shown without changing the grid. */
export function withRandomImage(state: ExplorerState): ExplorerState {
  if (!state.teacher) return state;
  const seed = state.seed + 1;
  const index = Math.floor(seededRandom(`image ${seed}`)() * state.teacher.count);
  return { ...state, seed, selected: index };
}

/** The next (+1) or previous (-1) image of the grid, wrapping; from an image outside it, the grid's first. */
export function withSteppedImage(state: ExplorerState, direction: number): ExplorerState {
  const { candidates, selected } = state;
  if (!candidates.length) return state;
  const at = selected === null ? -1 : candidates.indexOf(selected);
  const next = at < 0 ? 0 : (at + direction + candidates.length) % candidates.length;
  return { ...state, selected: candidates[next]! };
}

/** Test indices whose images are needed and not held yet: the grid and the shown image. */
export function missingImages(state: ExplorerState): number[] {
  const wanted = state.selected === null ? state.candidates : [state.selected, ...state.candidates];
  return [...new Set(wanted)].filter((i) => !(i in state.images));
}

/** A finished run's final student logits, kept (and shown at once when that run is the one pinned). */
export const withFinishedStudent = (
  state: ExplorerState,
  runId: number,
  logits: SplitLogits,
): ExplorerState => ({
  ...state,
  finishedStudents: { ...state.finishedStudents, [runId]: logits },
  ...(state.pinnedRun === runId ? { student: logits, studentStatus: 'ready' as const } : {}),
});

/** Shows a finished run's student (its kept logits) instead of the live source. */
export const withPinnedRun = (state: ExplorerState, runId: number): ExplorerState => ({
  ...state,
  pinnedRun: runId,
  student: state.finishedStudents[runId] ?? null,
  studentStatus: runId in state.finishedStudents ? 'ready' : 'idle',
  studentMessage: null,
});

/** The finished runs whose students can be shown beside this teacher (same test split), newest first. */
export const finishedRunIds = (state: ExplorerState): number[] =>
  Object.entries(state.finishedStudents)
    .filter(([, logits]) => logits.datasetId === state.teacher?.datasetId)
    .map(([id]) => Number(id))
    .sort((a, b) => b - a);
