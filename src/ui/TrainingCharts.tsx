import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { accuracySeries, lossSeries } from '../store/chartSeries';
import { useTrainingStore } from '../store/trainingStores';
import type { ModelRole } from '../worker/protocol';

/** Colours of the known loss terms; a method's own terms take the rest in order. */
const TERM_COLOURS: Record<string, string> = { ce: '#2d6cdf', weightDecay: '#d9822b', total: '#7a3fb8' };
const SPARE_COLOURS = ['#1f9d55', '#c0392b', '#16a2b8', '#8a6d3b'];
const TERM_LABELS: Record<string, string> = {
  ce: 'cross-entropy',
  weightDecay: 'weight decay',
  total: 'total',
};

const termColour = (term: string, index: number) =>
  TERM_COLOURS[term] ?? SPARE_COLOURS[index % SPARE_COLOURS.length]!;

const CHART_HEIGHT = 220;
const fixed = (digits: number) => (value: unknown) =>
  typeof value === 'number' ? value.toFixed(digits) : String(value);

/** Training loss per named term against the step; data-points: how many points are drawn. */
export function LossChart({ role }: { role: ModelRole }) {
  const steps = useTrainingStore((s) => s[role].steps);
  const { terms, points } = useMemo(() => lossSeries(steps), [steps]);
  return (
    <figure className="chart" data-testid="loss-chart" data-points={points.length}>
      <figcaption>Training loss per term</figcaption>
      {points.length === 0 ? (
        <p className="hint chart-empty">The curves appear with the first steps.</p>
      ) : (
        <LineChart responsive data={points} style={{ width: '100%', height: CHART_HEIGHT }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} allowDecimals={false} />
          <YAxis width={48} tickFormatter={fixed(2)} />
          <Tooltip formatter={fixed(4)} labelFormatter={(step) => `step ${step}`} />
          <Legend />
          {terms.map((term, i) => (
            <Line
              key={term}
              dataKey={term}
              name={TERM_LABELS[term] ?? term}
              stroke={termColour(term, i)}
              dot={false}
              strokeWidth={term === 'total' ? 2 : 1.5}
              // Redraws come a few times a second; animating each would never settle.
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      )}
    </figure>
  );
}

/** Train and test top-1 accuracy after each epoch. */
export function AccuracyChart({ role }: { role: ModelRole }) {
  const epochs = useTrainingStore((s) => s[role].epochs);
  const points = useMemo(() => accuracySeries(epochs), [epochs]);
  return (
    <figure className="chart" data-testid="accuracy-chart" data-points={points.length}>
      <figcaption>Accuracy per epoch (%)</figcaption>
      {points.length === 0 ? (
        <p className="hint chart-empty">Measured at the end of each epoch.</p>
      ) : (
        <LineChart responsive data={points} style={{ width: '100%', height: CHART_HEIGHT }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} allowDecimals={false} />
          <YAxis width={48} domain={[0, 100]} />
          <Tooltip formatter={fixed(1)} labelFormatter={(epoch) => `epoch ${epoch}`} />
          <Legend />
          <Line dataKey="train" name="train" stroke="#2d6cdf" isAnimationActive={false} />
          <Line dataKey="test" name="test" stroke="#1f9d55" isAnimationActive={false} />
        </LineChart>
      )}
    </figure>
  );
}
