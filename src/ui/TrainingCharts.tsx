/**
 * A run's live charts: loss per named term by step, accuracy per epoch. They redraw a few times a second while
 * the training Worker keeps the cores busy, so each redraw is kept short: the charts are mounted before a run
 * (ChartArea), every prop but the data is the same object at each redraw, and the loss chart redraws in tasks of
 * its own (docs/design.md §5, "the main thread while training").
 */
import { memo, type ReactNode, useCallback, useDeferredValue, useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { EPOCH_AXIS, fixed, labelled, percentAxis, STEP_AXIS, yTitled } from './chartAxes';
import { accuracySeries, type LossPoint, lossSeries, termLabel } from '../store/chartSeries';
import { learningHint } from '../store/runHealth';
import { useDatasetStore } from '../store/stores';
import { useTrainingStore } from '../store/trainingStores';
import type { EpochLog, ModelRole, StepLog } from '../worker/protocol';
import { useIdleMount } from './useIdleMount';

/** Colours of the known loss terms; a method's own terms take the rest in order. */
const TERM_COLOURS: Record<string, string> = { ce: '#2d6cdf', weightDecay: '#d9822b', total: '#7a3fb8' };
const SPARE_COLOURS = ['#1f9d55', '#c0392b', '#16a2b8', '#8a6d3b', '#e83e8c', '#6c757d', '#20c997'];

const termColour = (term: string, index: number) =>
  TERM_COLOURS[term] ?? SPARE_COLOURS[index % SPARE_COLOURS.length]!;

const CHART_HEIGHT = 220;
/** One object for every render: recharts compares it. */
export const CHART_STYLE = { width: '100%', height: CHART_HEIGHT } as const;

/**
 * A chart that is mounted while it has no points yet, hidden under its hint (once the dataset is loaded, when
 * the page is idle: useIdleMount.ts): a run's first step or epoch then only updates it.
 */
export function ChartArea({ empty, hint, children }: { empty: boolean; hint: string; children: ReactNode }) {
  const idle = useIdleMount(useDatasetStore((s) => s.status === 'ready'));
  return (
    <div className="chart-area">
      {(idle || !empty) && children}
      {empty && <p className="hint chart-empty">{hint}</p>}
    </div>
  );
}

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

/**
 * Training loss per named term against the step: one line per term the run reports (a method's own terms
 * included); data-points: how many points are drawn, data-terms: the terms' names.
 */
export const LossChartView = memo(function LossChartView({
  steps: stepsNow,
  caption = 'Training loss per term',
}: {
  steps: readonly StepLog[];
  caption?: string;
}) {
  // Redrawn at a transition's priority: React renders it in slices of a few ms, in tasks of its own, rather than
  // in the task that brought the steps (with the rest of the panel's update).
  const steps = useDeferredValue(stepsNow);
  const { terms: termsNow, points: linear } = useMemo(() => lossSeries(steps), [steps]);
  // The same array while the run reports the same terms, so that the legend's sorter stays the same prop.
  const termKey = termsNow.join(' ');
  const terms = useMemo(() => (termKey === '' ? [] : termKey.split(' ')), [termKey]);
  const legendOrder = useCallback(
    (item: { dataKey?: unknown }) => terms.indexOf(String(item.dataKey)),
    [terms],
  );
  // A log axis shows small terms (AKD's L1..L3, weight decay) beside cross-entropy; it cannot show 0.
  const [log, setLog] = useState(false);
  const points = useMemo(() => (log ? positivePoints(linear) : linear), [log, linear]);
  const hint = useMemo(() => learningHint(steps), [steps]);
  // Everything but the data, made again only when the terms or the scale change: a redraw with new points
  // then re-renders only what reads the data in recharts' store, not every axis, grid and legend.
  const parts = useMemo(
    () => (
      <>
        <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
        <XAxis {...STEP_AXIS} />
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
        <Tooltip formatter={log ? exponent : fixed(4)} labelFormatter={labelled('step')} />
        {/* In the engine's order (ce, the method's terms, weight decay, total), not alphabetical. */}
        <Legend itemSorter={legendOrder} />
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
      </>
    ),
    [log, terms, legendOrder],
  );
  // The same element while the deferred steps are: the panel's own re-render leaves recharts alone.
  const chart = useMemo(
    () => (
      <LineChart responsive data={points} style={CHART_STYLE}>
        {parts}
      </LineChart>
    ),
    [points, parts],
  );
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
      <ChartArea empty={points.length === 0} hint="The curves appear with the first steps.">
        {chart}
      </ChartArea>
      {hint && (
        <div className="notice run-hint" role="status" data-testid="run-hint" data-kind={hint.kind}>
          <strong>{hint.what}</strong> {hint.tryThis}
        </div>
      )}
    </figure>
  );
});

export function LossChart({ role }: { role: ModelRole }) {
  const steps = useTrainingStore((s) => s[role].steps);
  return <LossChartView steps={steps} />;
}

/** The accuracy chart's parts, the same elements at every redraw (see LossChartView's parts). */
const ACCURACY_PARTS = (
  <>
    <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
    <XAxis {...EPOCH_AXIS} />
    <YAxis {...percentAxis('accuracy %')} />
    <Tooltip formatter={fixed(1)} labelFormatter={labelled('epoch')} />
    <Legend />
    <Line dataKey="train" name="train" stroke="#2d6cdf" isAnimationActive={false} />
    <Line dataKey="test" name="test" stroke="#1f9d55" isAnimationActive={false} />
  </>
);

/** Train and test top-1 accuracy after each epoch. */
export const AccuracyChartView = memo(function AccuracyChartView({
  epochs,
}: {
  epochs: readonly EpochLog[];
}) {
  const points = useMemo(() => accuracySeries(epochs), [epochs]);
  const latest = points.at(-1);
  const summary = latest
    ? `Accuracy per epoch; after epoch ${latest.epoch}: train ${latest.train.toFixed(1)}%, test ${latest.test.toFixed(1)}%`
    : 'Accuracy per epoch: no epoch finished yet';
  return (
    <figure className="chart" data-testid="accuracy-chart" data-points={points.length} aria-label={summary}>
      <figcaption>Accuracy per epoch (%)</figcaption>
      <ChartArea empty={points.length === 0} hint="Measured at the end of each epoch.">
        <LineChart responsive data={points} style={CHART_STYLE}>
          {ACCURACY_PARTS}
        </LineChart>
      </ChartArea>
    </figure>
  );
});

export function AccuracyChart({ role }: { role: ModelRole }) {
  // Not deferred: at an epoch's end it redraws in the update's own task, and the loss chart (deferred) in tasks
  // of its own; both deferred, the two redraws were committed in one task.
  const epochs = useTrainingStore((s) => s[role].epochs);
  return <AccuracyChartView epochs={epochs} />;
}
