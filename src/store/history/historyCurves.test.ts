import { describe, expect, it } from 'vitest';
import { fromDistillRun } from './fromRuns';
import { accuracyCurves, lossCurves, lossTerms, seriesKey } from './historyCurves';
import { distillRun, epochLog, stepLogs, testConfig, testContext } from './testRuns';

const twoEpochs = fromDistillRun(
  distillRun({ kind: 'done' }, { steps: stepLogs(2, 4), epochs: [epochLog(1, 0.3), epochLog(2, 0.42)] }),
  testContext('a'),
)!;
const oneEpoch = fromDistillRun(
  distillRun(
    { kind: 'stopped' },
    { steps: stepLogs(1, 8, ['ce', 'l1']), epochs: [epochLog(1, 0.35)] },
    testConfig({ epochs: 3 }),
  ),
  testContext('b'),
)!;

describe('the history overlay', () => {
  it('test accuracy per epoch, each chosen run one series in the order chosen', () => {
    expect(accuracyCurves([oneEpoch, twoEpochs])).toEqual([
      { epoch: 1, [seriesKey(0)]: 35, [seriesKey(1)]: 30 },
      { epoch: 2, [seriesKey(1)]: 42 },
    ]);
  });

  it('loss terms: total first, then as first seen', () => {
    expect(lossTerms([twoEpochs, oneEpoch])).toEqual(['total', 'ce', 'soft', 'l1']);
  });

  it('one loss term against epochs of training, so runs of different steps per epoch line up', () => {
    const points = lossCurves([twoEpochs, oneEpoch], 'ce');
    const of = (i: number) => points.filter((p) => seriesKey(i) in p);
    // 4 steps per epoch: x = 0.25, 0.5, ..., 2; 8 steps per epoch: x = 0.125, ..., 1.
    expect(of(0).map((p) => p.epoch)).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
    expect(of(1).map((p) => p.epoch)).toEqual([0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1]);
    expect(of(0)[4]![seriesKey(0)]).toBe(twoEpochs.steps[4]!.terms.ce);
    expect(points.map((p) => p.epoch)).toEqual([...points.map((p) => p.epoch)].sort((a, b) => a - b));
    // A term a run did not log draws nothing for it.
    expect(lossCurves([twoEpochs, oneEpoch], 'l1').every((p) => !(seriesKey(0) in p))).toBe(true);
  });

  it('long runs are drawn as averages of consecutive steps; non-finite steps are left out', () => {
    const steps = stepLogs(1, 8);
    steps[1] = { ...steps[1]!, terms: { ...steps[1]!.terms, total: Number.NaN } };
    const run = fromDistillRun(distillRun({ kind: 'done' }, { steps, epochs: [] }), testContext())!;
    const points = lossCurves([run], 'total', 4);
    const kept = run.steps.map((s) => s.terms.total).filter((v): v is number => v !== null);
    expect(kept).toHaveLength(7);
    // 7 finite steps in buckets of 2: (1,3), (4,5), (6,7), (8).
    expect(points.map((p) => p.epoch)).toEqual([3 / 8, 5 / 8, 7 / 8, 1]);
    expect(points[0]![seriesKey(0)]).toBeCloseTo((kept[0]! + kept[1]!) / 2, 12);
    expect(points[3]![seriesKey(0)]).toBe(kept[6]);
  });
});
