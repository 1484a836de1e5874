/** The Distillation panel's table of every run of this visit: method, parameters, settings, accuracy against its baseline. */
import { runColour } from './distillRunLook';
import { formatPercent } from './format';
import { showRun } from '../store/distillActions';
import { paramsText, labelledText } from '../store/distillForm';
import { baselineFor, finalTestAccuracy, isBaseline } from '../store/distillState';
import { useDistillStore } from '../store/distillStores';
import type { TrainConfig } from '../worker/protocol';

const settingsText = (config: TrainConfig) =>
  `${config.model} · ${config.epochs} ep · batch ${config.batchSize} · ${config.optimizer} ${config.learningRate} ${config.schedule} · seed ${config.seed}`;

export function DistillRunsTable() {
  const runs = useDistillStore((s) => s.runs);
  const methods = useDistillStore((s) => s.methods);
  const shownRunId = useDistillStore((s) => s.shownRunId);
  if (!runs.length) return null;
  return (
    <div className="runs-table-wrap">
      <h3>Runs of this visit</h3>
      <table className="runs-table" data-testid="distill-runs">
        <thead>
          <tr>
            <th>#</th>
            <th>Method</th>
            <th>Parameters (* changed)</th>
            <th>Labels</th>
            <th>Student and settings</th>
            <th>Status</th>
            <th>Test acc.</th>
            <th>vs baseline</th>
            <th>ms/step</th>
            <th>Set-up</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...runs].reverse().map((run) => {
            const accuracy = finalTestAccuracy(run);
            const baseline = isBaseline(run) ? null : baselineFor(runs, run);
            const baselineAccuracy = baseline ? finalTestAccuracy(baseline) : null;
            const method = methods?.find((m) => m.id === run.method);
            return (
              <tr
                key={run.id}
                data-testid="distill-run"
                data-run-id={run.id}
                data-method={run.method}
                data-status={run.status}
                className={run.id === shownRunId ? 'shown' : undefined}
              >
                <td>
                  <span className="run-swatch" style={{ background: runColour(run.id) }} /> {run.id}
                </td>
                <td title={run.methodLabel}>
                  {run.method}
                  {isBaseline(run) && <span className="hint"> (baseline)</span>}
                </td>
                <td className="params-cell">{paramsText(method, run.params)}</td>
                <td>{labelledText(run.labelledFraction)}</td>
                <td className="hint" title={`on ${run.datasetName}`}>
                  {settingsText(run.config)}
                </td>
                <td>{run.status}</td>
                <td data-testid="distill-run-accuracy" data-value={accuracy ?? ''}>
                  {accuracy === null ? '—' : formatPercent(accuracy)}
                </td>
                <td>
                  {accuracy !== null && baselineAccuracy !== null
                    ? `${accuracy >= baselineAccuracy ? '+' : ''}${((accuracy - baselineAccuracy) * 100).toFixed(1)} pts (#${baseline!.id})`
                    : isBaseline(run)
                      ? '—'
                      : baseline
                        ? `#${baseline.id} has no epoch yet`
                        : 'none yet'}
                </td>
                <td data-testid="distill-run-ms" data-value={run.msPerStep ?? ''}>
                  {run.msPerStep === null ? '—' : run.msPerStep.toFixed(0)}
                </td>
                <td>{run.setup ? `${run.setup.seconds.toFixed(1)} s` : '—'}</td>
                <td>
                  <button
                    type="button"
                    data-testid="distill-run-show"
                    disabled={run.id === shownRunId}
                    onClick={() => showRun(run.id)}
                  >
                    {run.id === shownRunId ? 'Shown' : 'Show curves'}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
