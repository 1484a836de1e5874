import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { EPOCH_AXIS, percentAxis, xTitled, yTitled } from './chartAxes';
import { accuracySeries, type LossPoint, lossSeries, termLabel } from '../store/chartSeries';
import { learningHint } from '../store/runHealth';
import { useTrainingStore } from '../store/trainingStores';
import type { EpochLog, ModelRole, StepLog } from '../worker/protocol';

/** Colours of the known loss terms; a method's own terms take the rest in order. */
const TERM_COLOURS: Record<string, string> = { ce: '#2d6cdf', weightDecay: '#d9822b', total: '#7a3fb8' };
const SPARE_COLOURS = ['#1f9d55', '#c0392b', '#16a2b8', '#8a6d3b', '#e83e8c', '#6c757d', '#20c997'];

const termColour = (term: string, index: number) =>
  TERM_COLOURS[term] ?? SPARE_COLOURS[index % SPARE_COLOURS.length]!;

export const CHART_HEIGHT = 220;

/** Values a log axis can draw: anything at or below 0 is raised to a floor far below the curves. */
const LOG_FLOOR = 1e-6;
const positivePoints = (points: readonly LossPoint[]): LossPoint[] =>
  points.map(
    (p) =>
      Object.fromEntries(
        Object.entries(p).map(([k, v]) => [k, k === 'step' ? v : Math.max(v, LOG_FLOOR)]),
      ) as LossPoint,
  );
/** Short log-axis numbers: "2.3", "0.05", "4e-3". */
const exponent = (value: unknown) =>
  typeof value !== 'number'
    ? String(value)
    : value >= 0.01
      ? String(Number(value.toPrecision(2)))
      : value.toExponential(0);
export const fixed = (digits: number) => (value: unknown) =>
  typeof value === 'number' ? value.toFixed(digits) : String(value);

/**
 * Training loss per named term against the step: one line per term the run reports (a method's own terms
 * included); data-points: how many points are drawn, data-terms: the terms' names.
 */
export function LossChartView({
  steps,
  caption = 'Training loss per term',
}: {
  steps: readonly StepLog[];
  caption?: string;
}) {
  const { terms, points: linear } = useMemo(() => lossSeries(steps), [steps]);
  // A log axis shows small terms (AKD's L1..L3, weight decay) beside cross-entropy; it cannot show 0.
  const [log, setLog] = useState(false);
  const points = useMemo(() => (log ? positivePoints(linear) : linear), [log, linear]);
  const hint = useMemo(() => learningHint(steps), [steps]);
  const latest = linear.at(-1);
  const summary = latest
    ? `${caption}, by step; at step ${latest.step}: ${terms.map((t) => `${termLabel(t)} ${latest[t]?.toFixed(3)}`).join(', ')}`
    : `${caption}: no steps yet`;
  return (
    <figure
      className="chart"
      data-testid="loss-chart"
      data-points={points.length}
      data-terms={terms.join(' ')}
      aria-label={summary}
    >
      <figcaption>
        {caption}
        <label className="chart-option">
          <input
            type="checkbox"
            data-testid="loss-chart-log"
            checked={log}
            onChange={(e) => setLog(e.target.checked)}
          />{' '}
          log scale
        </label>
      </figcaption>
      {points.length === 0 ? (
        <p className="hint chart-empty">The curves appear with the first steps.</p>
      ) : (
        <LineChart responsive data={points} style={{ width: '100%', height: CHART_HEIGHT }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis
            dataKey="step"
            type="number"
            domain={[0, 'dataMax']}
            allowDecimals={false}
            {...xTitled('step')}
          />
          {log ? (
            <YAxis
              scale="log"
              domain={['auto', 'auto']}
              allowDataOverflow
              tickFormatter={exponent}
              {...yTitled('loss (log)')}
            />
          ) : (
            <YAxis tickFormatter={fixed(2)} {...yTitled('loss')} />
          )}
          <Tooltip formatter={log ? exponent : fixed(4)} labelFormatter={(step) => `step ${step}`} />
          {/* In the engine's order (ce, the method's terms, weight decay, total), not alphabetical. */}
          <Legend itemSorter={(item) => terms.indexOf(String(item.dataKey))} />
          {terms.map((term, i) => (
            <Line
              key={term}
              dataKey={term}
              name={termLabel(term)}
              stroke={termColour(term, i)}
              dot={false}
              strokeWidth={term === 'total' ? 2 : 1.5}
              // Redraws come a few times a second; animating each would never settle.
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      )}
      {hint && (
        <div className="notice run-hint" role="status" data-testid="run-hint" data-kind={hint.kind}>
          <strong>{hint.what}</strong> {hint.tryThis}
        </div>
      )}
    </figure>
  );
}

export function LossChart({ role }: { role: ModelRole }) {
  const steps = useTrainingStore((s) => s[role].steps);
  return <LossChartView steps={steps} />;
}

/** Train and test top-1 accuracy after each epoch. */
export function AccuracyChartView({ epochs }: { epochs: readonly EpochLog[] }) {
  const points = useMemo(() => accuracySeries(epochs), [epochs]);
  const latest = points.at(-1);
  const summary = latest
    ? `Accuracy per epoch; after epoch ${latest.epoch}: train ${latest.train.toFixed(1)}%, test ${latest.test.toFixed(1)}%`
    : 'Accuracy per epoch: no epoch finished yet';
  return (
    <figure className="chart" data-testid="accuracy-chart" data-points={points.length} aria-label={summary}>
      <figcaption>Accuracy per epoch (%)</figcaption>
      {points.length === 0 ? (
        <p className="hint chart-empty">Measured at the end of each epoch.</p>
      ) : (
        <LineChart responsive data={points} style={{ width: '100%', height: CHART_HEIGHT }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis {...EPOCH_AXIS} />
          <YAxis {...percentAxis('accuracy %')} />
          <Tooltip formatter={fixed(1)} labelFormatter={(epoch) => `epoch ${epoch}`} />
          <Legend />
          <Line dataKey="train" name="train" stroke="#2d6cdf" isAnimationActive={false} />
          <Line dataKey="test" name="test" stroke="#1f9d55" isAnimationActive={false} />
        </LineChart>
      )}
    </figure>
  );
}

export function AccuracyChart({ role }: { role: ModelRole }) {
  const epochs = useTrainingStore((s) => s[role].epochs);
  return <AccuracyChartView epochs={epochs} />;
}
