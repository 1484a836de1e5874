import { describe, expect, it } from 'vitest';
import type { TrainConfig } from './hyperparams';
import { learningRateAt } from './schedule';

const LR = 0.1;
const TOTAL = 100;
const at = (schedule: TrainConfig['schedule'], step: number, total = TOTAL, learningRate = LR) =>
  learningRateAt({ learningRate, schedule }, step, total);
const curve = (schedule: TrainConfig['schedule'], total = TOTAL) =>
  Array.from({ length: total + 1 }, (_, step) => at(schedule, step, total));

describe('learningRateAt', () => {
  it('constant: the configured rate at every step', () => {
    expect(new Set(curve('constant'))).toEqual(new Set([LR]));
    expect(at('constant', 7, 10, 0.003)).toBe(0.003);
  });

  it('cosine: lr at the start, lr/2 half-way, 0 at the end, falling all the way', () => {
    expect(at('cosine', 0)).toBe(LR);
    expect(at('cosine', 50)).toBeCloseTo(LR / 2, 12);
    expect(at('cosine', 25)).toBeCloseTo((LR * (1 + Math.SQRT1_2)) / 2, 12);
    expect(at('cosine', TOTAL)).toBeCloseTo(0, 12);
    const values = curve('cosine');
    values.slice(1).forEach((v, i) => expect(v).toBeLessThan(values[i]!));
  });

  it('step: x0.1 at 50% of the run and again at 75%', () => {
    expect(at('step', 0)).toBe(LR);
    expect(at('step', 49)).toBe(LR);
    expect(at('step', 50)).toBeCloseTo(LR * 0.1, 15);
    expect(at('step', 74)).toBeCloseTo(LR * 0.1, 15);
    expect(at('step', 75)).toBeCloseTo(LR * 0.01, 15);
    expect(at('step', 99)).toBeCloseTo(LR * 0.01, 15);
    // Exactly three distinct rates over a run.
    expect(new Set(curve('step')).size).toBe(3);
  });

  it('onecycle: lr/25 at the start, linear warm-up to lr at 30%, cosine down to lr/25/1e4', () => {
    const start = LR / 25;
    const end = LR / 25 / 1e4;
    expect(at('onecycle', 0)).toBeCloseTo(start, 15);
    expect(at('onecycle', 15)).toBeCloseTo((start + LR) / 2, 12);
    expect(at('onecycle', 30)).toBeCloseTo(LR, 12);
    expect(at('onecycle', TOTAL)).toBeCloseTo(end, 15);
    // The last step the trainer runs (step total - 1) is already within a few thousandths of lr.
    expect(at('onecycle', TOTAL - 1)).toBeLessThan(LR / 1000);
    expect(at('onecycle', TOTAL - 1)).toBeGreaterThan(end);
    const values = curve('onecycle');
    expect(Math.max(...values)).toBeCloseTo(LR, 12);
    values.slice(1, 31).forEach((v, i) => expect(v).toBeGreaterThan(values[i]!));
    values.slice(31).forEach((v, i) => expect(v).toBeLessThan(values[30 + i]!));
  });

  it('clamps steps outside the run and survives a zero-step run', () => {
    expect(at('onecycle', -5)).toBeCloseTo(LR / 25, 15);
    expect(at('cosine', TOTAL * 2)).toBeCloseTo(0, 12);
    expect(at('step', TOTAL * 2)).toBeCloseTo(LR * 0.01, 15);
    for (const schedule of ['cosine', 'step', 'onecycle', 'constant'] as const) {
      expect(Number.isFinite(at(schedule, 0, 0))).toBe(true);
    }
  });
});
