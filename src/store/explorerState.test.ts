import { describe, expect, it } from 'vitest';
import { MAX_TEMPERATURE, MIN_TEMPERATURE } from '../engine/config/temperature';
import type { SplitLogits } from '../worker/protocol';
import {
  candidatesFor,
  finishedRunIds,
  GRID_SIZE,
  initialExplorerState,
  missingImages,
  SLIDER_MAX,
  SLIDER_MIN,
  steppedTemperature,
  temperatureOf,
  withFinishedStudent,
  withPick,
  withPinnedRun,
  withRandomImage,
  withSteppedImage,
  withTeacher,
} from './explorerState';

/** 100 images of 10 classes (label = index mod 10); image i is sure of its class unless i is a multiple of 7. */
function teacherLogits(datasetId = 'embedded'): SplitLogits {
  const count = 100;
  const classes = 10;
  const logits = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) if (i % 7 !== 0) logits[i * classes + (i % classes)] = 8;
  return {
    model: 'vgg-fast (shipped)',
    datasetId,
    classes,
    count,
    logits,
    labels: Uint8Array.from({ length: count }, (_, i) => i % classes),
  };
}

describe('temperature explorer state', () => {
  it('maps the log slider onto T from 0.5 to 20 and steps a quarter octave per key, within range', () => {
    expect(temperatureOf(SLIDER_MIN)).toBeCloseTo(MIN_TEMPERATURE, 12);
    expect(temperatureOf(SLIDER_MAX)).toBeCloseTo(MAX_TEMPERATURE, 12);
    expect(temperatureOf(0)).toBe(1);
    expect(temperatureOf(Math.log2(10))).toBeCloseTo(10, 12);
    expect(steppedTemperature(4, 4)).toBeCloseTo(8, 12);
    expect(steppedTemperature(4, -1)).toBeCloseTo(4 / 2 ** 0.25, 12);
    expect(steppedTemperature(19, 3)).toBe(MAX_TEMPERATURE);
    expect(steppedTemperature(0.6, -3)).toBe(MIN_TEMPERATURE);
  });

  it('offers a grid of images: a shuffle of all, one class, or the most uncertain for the teacher', () => {
    const teacher = teacherLogits();
    const all = candidatesFor({ kind: 'all' }, teacher, 1);
    expect(all).toHaveLength(GRID_SIZE);
    expect(new Set(all).size).toBe(GRID_SIZE);
    expect(candidatesFor({ kind: 'all' }, teacher, 2)).not.toEqual(all);
    const cats = candidatesFor({ kind: 'class', classIndex: 3 }, teacher, 1);
    expect(cats).toHaveLength(10);
    expect(cats.every((i) => teacher.labels[i] === 3)).toBe(true);
    // The uniform-logit images (multiples of 7) come first, lowest index first.
    expect(candidatesFor({ kind: 'confused' }, teacher, 1).slice(0, 15)).toEqual(
      Array.from({ length: 15 }, (_, k) => k * 7),
    );
  });

  it('keeps the shown image across a new teacher on the same split, and steps through the grid', () => {
    let state = withTeacher(initialExplorerState(), teacherLogits());
    expect(state.teacherStatus).toBe('ready');
    expect(state.selected).toBe(state.candidates[0]);
    expect(missingImages(state)).toHaveLength(GRID_SIZE);
    state = withSteppedImage(state, 1);
    expect(state.selected).toBe(state.candidates[1]);
    state = withSteppedImage(withSteppedImage(state, -1), -1);
    expect(state.selected).toBe(state.candidates[GRID_SIZE - 1]);
    const shown = state.selected;
    expect(withTeacher(state, teacherLogits()).selected).toBe(shown);
    // Another split: the grid starts over.
    const other = withTeacher(state, teacherLogits('full'));
    expect(other.selected).toBe(other.candidates[0]);
    expect(other.images).toEqual({});

    state = withPick(state, { kind: 'class', classIndex: 5 });
    expect(state.teacher!.labels[state.selected!]).toBe(5);
    const random = withRandomImage(state);
    expect(random.seed).toBe(state.seed + 1);
    expect(random.selected).toBeGreaterThanOrEqual(0);
    expect(random.candidates).toBe(state.candidates);
  });

  it("keeps finished runs' students: listed for this split, newest first, and shown when pinned", () => {
    let state = withTeacher(initialExplorerState(), teacherLogits());
    const run1 = { ...teacherLogits(), model: 'kd student, epoch 3 of 3' };
    const run2 = { ...teacherLogits(), model: 'ce student, epoch 3 of 3' };
    const elsewhere = { ...teacherLogits('full'), model: 'kd student (full)' };
    state = withFinishedStudent(
      withFinishedStudent(withFinishedStudent(state, 1, run1), 2, run2),
      3,
      elsewhere,
    );
    expect(finishedRunIds(state)).toEqual([2, 1]);
    expect(state.student).toBeNull();
    state = withPinnedRun(state, 1);
    expect(state).toMatchObject({ pinnedRun: 1, student: run1, studentStatus: 'ready' });
    // Another split: the pinned student cannot be compared image by image and goes.
    const moved = withTeacher(state, teacherLogits('full'));
    expect(moved).toMatchObject({ pinnedRun: null, student: null });
    expect(finishedRunIds(moved)).toEqual([3]);
    // A run pinned before its logits arrive shows them when they do.
    const early = withPinnedRun(withTeacher(initialExplorerState(), teacherLogits()), 4);
    expect(early).toMatchObject({ student: null, studentStatus: 'idle' });
    expect(withFinishedStudent(early, 4, run1)).toMatchObject({ student: run1, studentStatus: 'ready' });
  });
});
