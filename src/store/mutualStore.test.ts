/** The mutual panel's reducers: step logs become one point per step with each student's total, epochs add up. */
import { describe, expect, it } from 'vitest';
import { initialMutualState, withEpoch, withSteps } from './mutualStore';

const step = (s: number, a: number, b: number) => ({
  kind: 'step' as const,
  epoch: 2,
  step: s,
  stepsPerEpoch: 4,
  models: {
    student1: { learningRate: 0.1, terms: { ce: 1, kl: 0.1, total: a } },
    student2: { learningRate: 0.1, terms: { ce: 2, kl: 0.2, total: b } },
  },
});

describe('mutual store', () => {
  it('keeps each student total at the global step, appended in order', () => {
    const state = withSteps(withSteps(initialMutualState(), [step(1, 2.5, 2.7)]), [step(2, 2.1, 2.4)]);
    expect(state.points).toEqual([
      { step: 5, totals: { student1: 2.5, student2: 2.7 } },
      { step: 6, totals: { student1: 2.1, student2: 2.4 } },
    ]);
    const epoch = {
      kind: 'epoch' as const,
      epoch: 1,
      seconds: 1,
      imagesPerSecond: 1,
      numTensors: 1,
      models: { student1: { trainLoss: 1, trainAccuracy: 0.3, testAccuracy: 0.25 } },
    };
    expect(withEpoch(state, epoch).epochLogs).toEqual([epoch]);
  });
});
