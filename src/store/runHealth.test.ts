import { describe, expect, it } from 'vitest';
import type { StepLog } from '../worker/protocol';
import { CHANCE_CROSS_ENTROPY, learningHint } from './runHealth';

const STEPS_PER_EPOCH = 50;
const log = (i: number, ce: number, total = ce): StepLog => ({
  kind: 'step',
  epoch: Math.floor(i / STEPS_PER_EPOCH) + 1,
  step: (i % STEPS_PER_EPOCH) + 1,
  stepsPerEpoch: STEPS_PER_EPOCH,
  learningRate: 0.01,
  terms: { ce, total },
});

describe('learningHint', () => {
  it('stays quiet for a run that learns, and before an epoch has passed', () => {
    const learning = Array.from({ length: 80 }, (_, i) => log(i, 2.3 - i * 0.01));
    expect(learningHint(learning)).toBeNull();
    const early = Array.from({ length: 30 }, (_, i) => log(i, CHANCE_CROSS_ENTROPY));
    expect(learningHint(early)).toBeNull();
  });

  it('names a run still at chance after an epoch', () => {
    const stuck = Array.from({ length: 60 }, (_, i) => log(i, CHANCE_CROSS_ENTROPY + 0.001 * (i % 3)));
    const hint = learningHint(stuck);
    expect(hint?.kind).toBe('at-chance');
    expect(hint?.what).toContain('2.30');
    expect(hint?.tryThis).toMatch(/lower learning rate/);
  });

  it('names a 10x spike with its step', () => {
    const steps = Array.from({ length: 40 }, (_, i) => log(i, 1.5, i === 30 ? 20 : 1.6));
    const hint = learningHint(steps);
    expect(hint).toMatchObject({ kind: 'spike' });
    expect(hint?.what).toContain('step 31');
    // 9x is not a spike.
    expect(learningHint(Array.from({ length: 40 }, (_, i) => log(i, 1.5, i === 30 ? 14 : 1.6)))).toBeNull();
  });
});
