/**
 * Born-again networks (Furlanello et al. 2018): G generations (2-5) of one student preset; generation 1 trains
 * on the labels (`ce`), each next one is distilled from the one before by KD (T 3, alpha 0.5, the KD guide's
 * values; kd.ts's loss) from a fresh initialisation (seed + g - 1). Optionally the generations' softmaxes are
 * averaged into an ensemble (stagedRun.ts ensembleAccuracy). See docs/design.md, "Schemes".
 */
import type { TrainConfig } from '../training/hyperparams';
import type { Stage } from './stagedRun';

export const BORN_AGAIN_KD = { temperature: 3, alpha: 0.5 } as const;
export const GENERATIONS = { min: 2, max: 5, default: 3 } as const;

export const generationName = (g: number) => `gen${g}`;

/** The stages of G generations; `train` is generation 1's settings (its seed the first generation's). */
export function bornAgainStages(train: TrainConfig, generations: number): Stage[] {
  if (!(Number.isInteger(generations) && generations >= GENERATIONS.min && generations <= GENERATIONS.max))
    throw new RangeError(
      `generations must be a whole number between ${GENERATIONS.min} and ${GENERATIONS.max}; got ${generations}`,
    );
  return Array.from({ length: generations }, (_, i) => {
    const g = i + 1;
    const settings = {
      method: g === 1 ? 'ce' : 'kd',
      params: g === 1 ? {} : { ...BORN_AGAIN_KD },
      labelledFraction: 1,
      train: { ...train, seed: train.seed + i },
    };
    return { name: generationName(g), settings, teacher: g === 1 ? null : generationName(g - 1) };
  });
}
