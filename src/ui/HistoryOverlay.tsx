import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { accuracyCurves, lossCurves, lossTerms, seriesKey } from '../store/history/historyCurves';
import { chooseLossTerm, selectedRuns, useHistoryStore } from '../store/history/historyStore';
import { termLabel } from '../store/chartSeries';
import { EPOCH_AXIS, fixed, labelled, percentAxis, xTitled, yTitled } from './chartAxes';
import { CHART_STYLE } from './TrainingCharts';

const COLOURS = ['#2d6cdf', '#c0392b', '#1f9d55', '#7a3fb8', '#d9822b', '#16a2b8', '#8a6d3b', '#e83e8c'];
const colour = (i: number) => COLOURS[i % COLOURS.length]!;

/** The chosen runs' test accuracy per epoch and one loss term, each run one line (in the order chosen). */
export function HistoryOverlay() {
  const runs = useHistoryStore((s) => s.runs);
  const selected = useHistoryStore((s) => s.selected);
  const lossTerm = useHistoryStore((s) => s.lossTerm);
  const chosen = useMemo(() => selectedRuns({ runs, selected }), [runs, selected]);
  const terms = useMemo(() => lossTerms(chosen), [chosen]);
  const term = terms.includes(lossTerm) ? lossTerm : (terms[0] ?? 'total');
  const accuracy = useMemo(() => accuracyCurves(chosen), [chosen]);
  const loss = useMemo(() => lossCurves(chosen, term), [chosen, term]);
  if (!chosen.length) return <p className="hint">Tick runs in the table to overlay their curves.</p>;
  // In the order chosen, as the table's ticks were set (recharts sorts by name otherwise).
  const inOrder = (item: { dataKey?: unknown }) => chosen.findIndex((_, i) => seriesKey(i) === item.dataKey);
  /** One line per chosen run; dots where each point matters (a run of one epoch is one point). */
  const lines = (dots: boolean) =>
    chosen.map((run, i) => (
      <Line
        key={run.id}
        dataKey={seriesKey(i)}
        name={run.name}
        stroke={colour(i)}
        dot={dots}
        connectNulls
        isAnimationActive={false}
      />
    ));
  return (
    <div className="charts">
      <figure
        className="chart"
        data-testid="history-accuracy-chart"
        data-series={chosen.length}
        data-points={accuracy.length}
      >
        <figcaption>Test accuracy per epoch of the chosen runs (%)</figcaption>
        {accuracy.length === 0 ? (
          <p className="hint chart-empty">None of the chosen runs finished an epoch.</p>
        ) : (
          <LineChart responsive data={accuracy} style={CHART_STYLE}>
            <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
            <XAxis {...EPOCH_AXIS} />
            <YAxis {...percentAxis('test accuracy %')} />
            <Tooltip formatter={fixed(1)} labelFormatter={labelled('epoch')} />
            <Legend itemSorter={inOrder} />
            {lines(true)}
          </LineChart>
        )}
      </figure>
      <figure
        className="chart"
        data-testid="history-loss-chart"
        data-series={chosen.length}
        data-points={loss.length}
        data-term={term}
      >
        <figcaption>
          Training loss of the chosen runs:{' '}
          <select
            data-testid="history-loss-term"
            value={term}
            onChange={(e) => chooseLossTerm(e.target.value)}
          >
            {terms.map((t) => (
              <option key={t} value={t}>
                {termLabel(t)}
              </option>
            ))}
          </select>
        </figcaption>
        <LineChart responsive data={loss} style={CHART_STYLE}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis
            dataKey="epoch"
            type="number"
            domain={[0, 'dataMax']}
            tickFormatter={(x: number) => String(Number(x.toFixed(2)))}
            {...xTitled('epochs of training')}
          />
          <YAxis tickFormatter={fixed(2)} {...yTitled('loss')} />
          <Tooltip formatter={fixed(4)} labelFormatter={(x) => `epoch ${Number(x).toFixed(2)}`} />
          <Legend itemSorter={inOrder} />
          {lines(false)}
        </LineChart>
      </figure>
    </div>
  );
}
