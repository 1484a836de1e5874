/**
 * The trust panel's tables: AUROC / AUPR / FPR95 per model x set x score with the best value of each set in
 * bold; per model the accuracy, ECE, misclassification AUROC per score and, for students, fidelity to the
 * teacher (top-1 agreement, mean KL(teacher || student)) on the test split.
 */
import { bestValues, isBest, METRIC_LABELS, METRICS } from '../store/oodView';
import type { OodResult } from '../worker/protocol';

const cell = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function OodMetricsTable({ result }: { result: OodResult }) {
  const best = bestValues(result.rows);
  const labelOf = (key: string) => result.models.find((m) => m.key === key)?.label ?? key;
  const setName = (id: string) => result.sets.find((s) => s.id === id)?.name ?? id;
  const scoreLabel = (id: string) => result.scores.find((s) => s.id === id)?.label ?? id;
  return (
    <table className="ood-table" data-testid="ood-table">
      <caption>
        Out-of-distribution detection against the test split ({result.testCount.toLocaleString('en-US')}{' '}
        images); bold: the best of each set. FPR95: share of OoD images accepted when 95% of the test images
        are (lower is better).
      </caption>
      <thead>
        <tr>
          <th>Model</th>
          <th>OoD set</th>
          <th>Score</th>
          {METRICS.map((m) => (
            <th key={m}>{METRIC_LABELS[m]}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {result.rows.map((row) => (
          <tr key={`${row.model}|${row.set}|${row.score}`} data-score={row.score} data-set={row.set}>
            <td>{labelOf(row.model)}</td>
            <td>{setName(row.set)}</td>
            <td>{scoreLabel(row.score)}</td>
            {METRICS.map((m) => (
              <td key={m} data-metric={m} className="num">
                {isBest(best, row, m) ? <strong>{cell(row[m])}</strong> : cell(row[m])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OodModelTable({ result }: { result: OodResult }) {
  return (
    <table className="ood-table" data-testid="ood-calibration">
      <caption>
        Per model on the test split: accuracy, expected calibration error (15 bins), misclassification
        detection (AUROC of each score at flagging wrong predictions), and fidelity to the teacher.
      </caption>
      <thead>
        <tr>
          <th>Model</th>
          <th>Accuracy</th>
          <th>ECE</th>
          {result.scores.map((s) => (
            <th key={s.id}>Misclass. AUROC: {s.label}</th>
          ))}
          <th>Top-1 agreement with teacher</th>
          <th>Mean KL(teacher || student)</th>
          <th>Anchors for u(x)</th>
        </tr>
      </thead>
      <tbody>
        {result.models.map((m) => (
          <tr key={m.key} data-role={m.role}>
            <td>{m.label}</td>
            <td className="num">{cell(100 * m.accuracy, 2)}%</td>
            <td className="num" data-testid="ood-ece">
              {cell(m.ece, 4)}
            </td>
            {result.scores.map((s) => (
              <td key={s.id} className="num">
                {cell(m.misclassification[s.id])}
              </td>
            ))}
            <td className="num">{m.fidelity ? `${cell(100 * m.fidelity.agreement, 1)}%` : '–'}</td>
            <td className="num">{m.fidelity ? cell(m.fidelity.meanKl, 4) : '–'}</td>
            <td className="hint">{m.anchors}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
