import { describe, expect, it } from 'vitest';
import type { EpochLog, StepLog } from '../worker/protocol';
import { accuracySeries, globalStep, lossSeries, termLabel } from './chartSeries';

const stepLog = (epoch: number, step: number, ce: number): StepLog => ({
  kind: 'step',
  epoch,
  step,
  stepsPerEpoch: 20,
  learningRate: 0.05,
  terms: { ce, weightDecay: 0.01, total: ce + 0.01 },
});

describe('lossSeries', () => {
  it('has one point per step while few, with every term by name', () => {
    const series = lossSeries([stepLog(1, 1, 2.3), stepLog(1, 2, 2.2), stepLog(2, 1, 2.0)]);
    expect(series.terms).toEqual(['ce', 'weightDecay', 'total']);
    expect(series.points.map((p) => p.step)).toEqual([1, 2, 21]);
    expect(series.points[2]).toEqual({ step: 21, ce: 2.0, weightDecay: 0.01, total: 2.01 });
  });

  it('averages consecutive steps when there are more than it draws', () => {
    const steps = Array.from({ length: 1000 }, (_, i) => stepLog(Math.floor(i / 20) + 1, (i % 20) + 1, i));
    const { points } = lossSeries(steps, 300);
    // 4 steps a point: 250 points, the last at the last step.
    expect(points).toHaveLength(250);
    expect(points[0]).toMatchObject({ step: 4, ce: 1.5 });
    expect(points.at(-1)).toMatchObject({ step: 1000, ce: 997.5 });
  });

  it('is empty before the first step', () => {
    expect(lossSeries([])).toEqual({ terms: [], points: [] });
  });

  it('counts steps across epochs', () => {
    expect(globalStep(stepLog(3, 5, 1))).toBe(45);
  });
});

describe('accuracySeries', () => {
  it('gives percentages per epoch', () => {
    const log: EpochLog = {
      kind: 'epoch',
      epoch: 2,
      trainLoss: 1.5,
      trainAccuracy: 0.4,
      testAccuracy: 0.375,
      seconds: 30,
      imagesPerSecond: 300,
      numTensors: 40,
    };
    expect(accuracySeries([log])).toEqual([{ epoch: 2, train: 40, test: 37.5 }]);
  });
});

describe('termLabel', () => {
  it('names the terms of every method, combinations by their own name', () => {
    expect(['ce', 'weightDecay', 'total'].map(termLabel)).toEqual(['cross-entropy', 'weight decay', 'total']);
    expect(['l1', 'l2', 'l3', 'akd'].map(termLabel)).toEqual(['L1', 'L2', 'L3', 'L_AKD']);
    expect(['akd.l1', 'kd.soft', 'soft'].map(termLabel)).toEqual(['L1', 'KD soft', 'KD soft']);
    expect(['mystery', 'x.mystery'].map(termLabel)).toEqual(['mystery', 'x.mystery']);
  });
});
