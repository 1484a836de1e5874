/**
 * Mutual learning: two student presets trained together by deep mutual learning (each on its labels and the
 * other's softened predictions; docs/design.md, "Schemes") in the Worker, with one loss curve per student
 * and both final test accuracies. Reads the mutual store only.
 */
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { fixed, labelled, STEP_AXIS, yTitled } from './chartAxes';
import { formatPercent } from './format';
import { CHART_STYLE, ChartArea } from './TrainingCharts';
import { chooseEpochs, chooseModel, startMutual, stopMutual, useMutualStore } from '../store/mutualStore';
import { usePresetStore } from '../store/trainingStores';

const COLOURS = ['#2d6cdf', '#d9822b', '#1f9d55', '#c0392b'];
/** At most this many points per curve are drawn (every n-th step). */
const MAX_POINTS = 300;

export function MutualPanel() {
  const { models, epochs, status, points, epochLogs, result, error } = useMutualStore();
  const presets = usePresetStore((s) => s.presets);
  const students = (presets ?? []).filter((p) => p.role === 'student');
  const names = models.map((_, i) => `student${i + 1}`);
  const data = useMemo(() => {
    const every = Math.max(1, Math.ceil(points.length / MAX_POINTS));
    return points
      .filter((_, i) => i % every === 0 || i === points.length - 1)
      .map((p) => ({ step: p.step, ...p.totals }));
  }, [points]);
  const running = status === 'running';
  return (
    <section className="panel" data-testid="mutual-panel">
      <h2>Mutual learning</h2>
      <p className="hint">
        Two students learn together from scratch: each on the labels and on the other&apos;s predictions (deep
        mutual learning, T = 1). Each curve is one student&apos;s total loss.
      </p>
      <div className="anchor-controls">
        {models.map((model, i) => (
          <label key={i}>
            Student {i + 1}{' '}
            <select
              data-testid={`mutual-model-${i + 1}`}
              value={model}
              disabled={running}
              onChange={(e) => chooseModel(i as 0 | 1, e.target.value)}
            >
              {students.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </select>
          </label>
        ))}
        <label>
          Epochs{' '}
          <input
            type="number"
            min={1}
            max={20}
            data-testid="mutual-epochs"
            value={epochs}
            disabled={running}
            onChange={(e) => chooseEpochs(Number(e.target.value))}
          />
        </label>
        <button data-testid="mutual-start" disabled={running} onClick={() => void startMutual()}>
          Start
        </button>
        <button data-testid="mutual-stop" disabled={!running} onClick={() => void stopMutual()}>
          Stop
        </button>
      </div>
      {error && (
        <p className="notice error" role="alert" data-testid="mutual-error">
          {error}
        </p>
      )}
      <figure
        className="chart"
        data-testid="mutual-chart"
        data-status={status}
        data-curves={points.length ? Object.keys(points[0]!.totals).length : 0}
        data-points={points.length}
        aria-label={`Total loss of each student by step${points.length ? `, ${points.length} steps` : ''}`}
      >
        <figcaption>Total loss per student</figcaption>
        <ChartArea empty={data.length === 0} hint="The curves appear with the first steps.">
          <LineChart responsive data={data} style={CHART_STYLE}>
            <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
            <XAxis {...STEP_AXIS} />
            <YAxis tickFormatter={fixed(2)} {...yTitled('loss')} />
            <Tooltip formatter={fixed(4)} labelFormatter={labelled('step')} />
            <Legend />
            {names.map((name, i) => (
              <Line
                key={name}
                dataKey={name}
                name={`${name} (${models[i]})`}
                stroke={COLOURS[i]}
                dot={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ChartArea>
      </figure>
      {epochLogs.length > 0 && (
        <p className="hint" data-testid="mutual-epochs-done">
          {epochLogs.length} epoch{epochLogs.length === 1 ? '' : 's'} done; test accuracy after the last:{' '}
          {Object.entries(epochLogs.at(-1)!.models)
            .map(([name, m]) => `${name} ${formatPercent(m.testAccuracy)}`)
            .join(', ')}
        </p>
      )}
      {result && (
        <table className="runs-table" data-testid="mutual-results">
          <thead>
            <tr>
              <th>Model</th>
              <th>Preset</th>
              <th>Final test accuracy</th>
            </tr>
          </thead>
          <tbody>
            {result.models.map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td>{m.preset}</td>
                <td data-testid={`mutual-accuracy-${m.name}`}>
                  {formatPercent(result.testAccuracy[m.name]!)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
