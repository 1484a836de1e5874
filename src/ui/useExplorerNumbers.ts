/**
 * Every number the temperature explorer shows, computed in the UI thread from the cached logits by the
 * engine's pure functions (no model runs on a slider move; e2e/temperature.spec.ts times a move in the page).
 */
import { useMemo } from 'react';
import {
  type ClassProbability,
  classSimilarity,
  darkKnowledge,
  entropy,
  entropyCurve,
  kdSoftTerm,
  logTemperatures,
  meanKdSoftTerm,
  rankClasses,
  rowOf,
  softmaxAt,
} from '../engine/config/temperature';
import { useExplorerStore } from '../store/explorerActions';

export interface ExplorerNumbers {
  readonly classes: number;
  readonly label: number;
  readonly teacherP: Float64Array;
  /** Null without student logits of the same split. */
  readonly studentP: Float64Array | null;
  /** The teacher's classes, most probable first. */
  readonly ranked: readonly ClassProbability[];
  readonly darkKnowledge: readonly ClassProbability[];
  readonly teacherEntropy: number;
  readonly studentEntropy: number | null;
  /** T^2 * KL(teacher || student) for the shown image, and its mean over the test split (KD's soft term). */
  readonly kdImage: number | null;
  readonly kdMean: number | null;
  /** The teacher's soft targets averaged per true class (classes x classes, row-major). */
  readonly similarity: Float64Array;
}

export interface EntropyPoint {
  readonly temperature: number;
  readonly teacher: number;
  readonly student?: number;
}

const CURVE_TEMPERATURES = logTemperatures(0.5, 20, 40);

export function useExplorerNumbers(): ExplorerNumbers | null {
  const teacher = useExplorerStore((s) => s.teacher);
  const student = useExplorerStore((s) => s.student);
  const temperature = useExplorerStore((s) => s.temperature);
  const selected = useExplorerStore((s) => s.selected);
  return useMemo(() => {
    if (!teacher || selected === null || selected >= teacher.count) return null;
    const { classes } = teacher;
    const pairedStudent =
      student && student.datasetId === teacher.datasetId && student.count === teacher.count ? student : null;
    const t = rowOf(teacher.logits, classes, selected);
    const s = pairedStudent && rowOf(pairedStudent.logits, classes, selected);
    const teacherP = softmaxAt(t, temperature);
    const studentP = s && softmaxAt(s, temperature);
    return {
      classes,
      label: teacher.labels[selected]!,
      teacherP,
      studentP,
      ranked: rankClasses(teacherP),
      darkKnowledge: darkKnowledge(teacherP),
      teacherEntropy: entropy(teacherP),
      studentEntropy: studentP && entropy(studentP),
      kdImage: s && kdSoftTerm(t, s, temperature),
      kdMean: pairedStudent && meanKdSoftTerm(teacher.logits, pairedStudent.logits, classes, temperature),
      similarity: classSimilarity(teacher.logits, teacher.labels, classes, temperature),
    };
  }, [teacher, student, temperature, selected]);
}

/** Entropy against T for the shown image (teacher, and the student when there is one). */
export function useEntropyCurve(): EntropyPoint[] {
  const teacher = useExplorerStore((s) => s.teacher);
  const student = useExplorerStore((s) => s.student);
  const selected = useExplorerStore((s) => s.selected);
  return useMemo(() => {
    if (!teacher || selected === null || selected >= teacher.count) return [];
    const t = entropyCurve(rowOf(teacher.logits, teacher.classes, selected), CURVE_TEMPERATURES);
    const paired =
      student && student.datasetId === teacher.datasetId && student.count === teacher.count ? student : null;
    const s = paired && entropyCurve(rowOf(paired.logits, paired.classes, selected), CURVE_TEMPERATURES);
    return t.map((point, i) => ({
      temperature: point.temperature,
      teacher: point.entropy,
      ...(s ? { student: s[i]!.entropy } : {}),
    }));
  }, [teacher, student, selected]);
}
