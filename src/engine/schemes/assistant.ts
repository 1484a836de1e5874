/**
 * Teacher-assistant chain (Mirzadeh et al. 2020, progressive distillation): the teacher distils into an
 * assistant of a middle size, the assistant into the student, each stage KD with T 4, alpha 0.5 (kd.ts's loss);
 * beside it, the same student distilled from the teacher directly for as many steps as the chain's two stages
 * together, the comparison the paper makes. See docs/design.md, "Schemes".
 */
import { findPreset } from '../models/presets';
import type { TrainConfig } from '../training/hyperparams';
import { GIVEN_TEACHER, type Stage } from './stagedRun';

export const ASSISTANT_KD = { temperature: 4, alpha: 0.5 } as const;

const parameters = (preset: string): number => {
  const model = findPreset(preset).build(0);
  try {
    return model.countParams();
  } finally {
    model.dispose();
  }
};

/**
 * Refuses a chain whose assistant is not strictly between the teacher and the student in parameters, naming
 * the presets and their sizes.
 */
export function checkChain(teacher: string, assistant: string, student: string): void {
  const [t, a, s] = [teacher, assistant, student].map(parameters) as [number, number, number];
  if (!(t > a && a > s))
    throw new Error(
      `the assistant must be a middle-sized model: ${assistant} has ${a.toLocaleString('en-US')} parameters, the teacher ${teacher} ${t.toLocaleString('en-US')} and the student ${student} ${s.toLocaleString('en-US')}`,
    );
}

/** Stages: assistant (from the teacher), student (from the assistant), direct (from the teacher, both lengths). */
export function assistantStages(assistant: TrainConfig, student: TrainConfig): Stage[] {
  const kd = (train: TrainConfig) => ({
    method: 'kd',
    params: { ...ASSISTANT_KD },
    labelledFraction: 1,
    train,
  });
  return [
    { name: 'assistant', settings: kd(assistant), teacher: GIVEN_TEACHER },
    { name: 'student', settings: kd(student), teacher: 'assistant' },
    {
      name: 'direct',
      settings: kd({ ...student, epochs: assistant.epochs + student.epochs }),
      teacher: GIVEN_TEACHER,
    },
  ];
}
