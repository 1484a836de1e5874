/** The Distillation panel's chart of every run's test accuracy per epoch, so methods can be compared at a glance. */
import { useCallback, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { EPOCH_AXIS, fixed, labelled, percentAxis } from './chartAxes';
import { runColour, runName } from './distillRunLook';
import { CHART_STYLE, ChartArea } from './TrainingCharts';
import { accuracyOverlay, isBaseline, runKey } from '../store/distillState';
import { useDistillStore } from '../store/distillStores';

/** Every run's test accuracy per epoch on one chart; baselines dashed. */
export function DistillAccuracyOverlay() {
  const runs = useDistillStore((s) => s.runs);
  // The runs change at every step of a live run; the chart's data only when an epoch ends or runs come and go.
  // The same data and props otherwise, so that recharts does not redraw it 4 times a second (docs/design.md §5).
  const epochsKey = runs.map((run) => `${run.id}:${run.epochs.length}`).join(' ');
  // eslint-disable-next-line react-hooks/exhaustive-deps -- epochsKey says when the runs' epochs changed
  const { series, points } = useMemo(() => accuracyOverlay(runs), [epochsKey]);
  const inRunOrder = useCallback(
    (item: { dataKey?: unknown }) => series.findIndex((run) => runKey(run.id) === item.dataKey),
    [series],
  );
  const chart = useMemo(
    () => (
      <LineChart responsive data={points} style={CHART_STYLE}>
        <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
        <XAxis {...EPOCH_AXIS} />
        <YAxis {...percentAxis('test accuracy %')} />
        <Tooltip formatter={fixed(1)} labelFormatter={labelled('epoch')} />
        {/* In the order of the runs. */}
        <Legend itemSorter={inRunOrder} />
        {series.map((run) => (
          <Line
            key={run.id}
            dataKey={runKey(run.id)}
            name={runName(run)}
            stroke={runColour(run.id)}
            strokeDasharray={isBaseline(run) ? '6 4' : undefined}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    ),
    [series, points, inRunOrder],
  );
  const finals = series
    .map((run) => {
      const last = [...points].reverse().find((p) => typeof p[runKey(run.id)] === 'number');
      return last ? `${runName(run)} ${Number(last[runKey(run.id)]).toFixed(1)}%` : null;
    })
    .filter(Boolean);
  return (
    <figure
      className="chart"
      data-testid="distill-accuracy-chart"
      data-series={series.length}
      data-points={points.length}
      aria-label={`Test accuracy per epoch of every run${finals.length ? `; latest: ${finals.join(', ')}` : ': no epoch finished yet'}`}
    >
      <figcaption>Test accuracy per epoch, every run (%); baselines dashed</figcaption>
      <ChartArea empty={points.length === 0} hint="Each run adds a line at the end of its first epoch.">
        {chart}
      </ChartArea>
    </figure>
  );
}
