/**
 * A trust-panel result as the history keeps it for one model (pure, unit-tested): the model's ECE and test
 * accuracy, and the AUROC of every score on every OoD set, named by the set (ids of uploads do not outlive
 * the visit). AUROCs that could not be computed (NaN: a set or split with one class of outcome) are left out.
 */
import type { OodResult } from '../../worker/protocol';
import type { OodMeasurement } from './runRecord';

export function oodMeasurementOf(result: OodResult, modelKey: string, now: Date): OodMeasurement | null {
  const model = result.models.find((m) => m.key === modelKey);
  if (!model || !Number.isFinite(model.ece)) return null;
  const setName = (id: string) => result.sets.find((s) => s.id === id)?.name ?? id;
  return {
    measuredAt: now.toISOString(),
    datasetName: result.datasetName,
    accuracy: model.accuracy,
    ece: model.ece,
    aurocs: result.rows
      .filter((row) => row.model === modelKey && Number.isFinite(row.auroc))
      .map((row) => ({ set: setName(row.set), score: row.score, auroc: row.auroc })),
  };
}
