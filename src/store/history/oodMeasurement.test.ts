import { describe, expect, it } from 'vitest';
import type { OodModelResult, OodResult, OodRow } from '../../worker/protocol';
import { oodMeasurementOf } from './oodMeasurement';
import { oodMeasurementSchema } from './runRecord';

const model = (key: string, ece: number): OodModelResult => ({
  key,
  label: key,
  role: 'student',
  lane: 'distill',
  anchors: 'its own',
  accuracy: 0.41,
  ece,
  reliability: [],
  fidelity: null,
  misclassification: { msp: 0.7, entropy: 0.7, energy: 0.6, anchorU: 0.65 },
});

const row = (modelKey: string, set: string, score: OodRow['score'], auroc: number): OodRow => ({
  model: modelKey,
  set,
  score,
  auroc,
  aupr: 0.5,
  fpr95: 0.9,
  histogram: [],
  roc: [],
});

const result: OodResult = {
  datasetName: 'Embedded default',
  testCount: 100,
  scores: [],
  sets: [
    { id: 'mnist', name: 'MNIST', count: 100, uploaded: false },
    { id: 'upload-1', name: 'svhn.bin', count: 50, uploaded: true },
  ],
  models: [model('teacher', 0.05), model('student', 0.12)],
  rows: [
    row('teacher', 'mnist', 'msp', 0.9),
    row('student', 'mnist', 'anchorU', 0.81),
    row('student', 'upload-1', 'entropy', 0.66),
    row('student', 'upload-1', 'msp', Number.NaN),
  ],
  seconds: 3,
};

describe('a trust-panel result kept with a run', () => {
  it('the model’s ECE and accuracy, and its AUROCs named by set; NaN AUROCs left out', () => {
    const ood = oodMeasurementOf(result, 'student', new Date('2026-12-02T08:00:00Z'))!;
    expect(oodMeasurementSchema.parse(ood)).toEqual(ood);
    expect(ood).toEqual({
      measuredAt: '2026-12-02T08:00:00.000Z',
      datasetName: 'Embedded default',
      accuracy: 0.41,
      ece: 0.12,
      aurocs: [
        { set: 'MNIST', score: 'anchorU', auroc: 0.81 },
        { set: 'svhn.bin', score: 'entropy', auroc: 0.66 },
      ],
    });
  });

  it('nothing for a model the result does not hold', () => {
    expect(oodMeasurementOf(result, 'other', new Date())).toBeNull();
  });
});
