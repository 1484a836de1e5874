/**
 * The trust panel's charts (recharts): in- vs out-of-distribution score histograms on shared bins as
 * densities, overlapping; ROC curves, one per score; the reliability diagram (accuracy per confidence bin
 * against the diagonal). Numbers come computed from the Worker; these only draw them.
 */
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { xTitled, yTitled } from './chartAxes';
import type { OodModelResult, OodResult, OodRow } from '../worker/protocol';

const HEIGHT = 220;
const IN_COLOUR = '#2d6cdf';
const OUT_COLOUR = '#d9822b';
const SCORE_COLOURS = ['#7a3fb8', '#1f9d55', '#c0392b', '#2d6cdf'];
const short = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(3))) : String(v));

/** Overlapping density histograms of one model, set and score; data-bins: bins drawn per set. */
export function ScoreHistogram({ row, setName }: { row: OodRow; setName: string }) {
  const data = row.histogram.map((b) => ({
    centre: (b.from + b.to) / 2,
    inDensity: b.inDensity,
    outDensity: b.outDensity,
  }));
  return (
    <figure className="chart" data-testid="ood-histogram" data-bins={data.length}>
      <figcaption>
        Score density: test split (blue) vs {setName} (orange); AUROC {row.auroc.toFixed(3)}
      </figcaption>
      <BarChart
        responsive
        data={data}
        barGap="-100%"
        barCategoryGap={0}
        style={{ width: '100%', height: HEIGHT }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="centre" tickFormatter={short} {...xTitled('score')} />
        <YAxis tickFormatter={short} {...yTitled('density')} />
        <Tooltip formatter={short} labelFormatter={(v) => `score ${short(v)}`} />
        <Legend />
        <Bar
          dataKey="inDensity"
          name="test split"
          fill={IN_COLOUR}
          fillOpacity={0.55}
          isAnimationActive={false}
        />
        <Bar
          dataKey="outDensity"
          name={setName}
          fill={OUT_COLOUR}
          fillOpacity={0.55}
          isAnimationActive={false}
        />
      </BarChart>
    </figure>
  );
}

/** ROC curves of every score for one model and set (OoD positive). */
export function RocCurves({ result, model, set }: { result: OodResult; model: string; set: string }) {
  const curves = result.scores.map(({ id, label }, i) => {
    const row = result.rows.find((r) => r.model === model && r.set === set && r.score === id);
    return {
      id,
      label: row ? `${label} (${row.auroc.toFixed(3)})` : label,
      colour: SCORE_COLOURS[i % SCORE_COLOURS.length]!,
      points: (row?.roc ?? []).map(([fpr, tpr]) => ({ fpr, tpr })),
    };
  });
  return (
    <figure className="chart" data-testid="ood-roc" data-curves={curves.length}>
      <figcaption>
        ROC curves (OoD positive): true positive rate (TPR) against false positive rate (FPR)
      </figcaption>
      <LineChart responsive style={{ width: '100%', height: HEIGHT }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="fpr" domain={[0, 1]} tickFormatter={short} {...xTitled('FPR')} />
        <YAxis type="number" dataKey="tpr" domain={[0, 1]} tickFormatter={short} {...yTitled('TPR')} />
        <Tooltip formatter={short} labelFormatter={(v) => `FPR ${short(v)}`} />
        <Legend />
        <ReferenceLine
          segment={[
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ]}
          stroke="#999"
          strokeDasharray="4 4"
        />
        {curves.map((c) => (
          <Line
            key={c.id}
            data={c.points}
            dataKey="tpr"
            name={c.label}
            stroke={c.colour}
            dot={false}
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </figure>
  );
}

/** Accuracy per confidence bin (bars) and each bin's mean confidence (line); perfect calibration is the diagonal. */
export function ReliabilityDiagram({ model }: { model: OodModelResult }) {
  const data = model.reliability.map((b) => ({
    centre: (b.lower + b.upper) / 2,
    accuracy: b.count ? b.accuracy : null,
    confidence: b.count ? b.confidence : null,
    count: b.count,
  }));
  return (
    <figure className="chart" data-testid="reliability-diagram" data-bins={data.length}>
      <figcaption>
        Reliability ({model.reliability.length} bins): accuracy per confidence bin; ECE {model.ece.toFixed(4)}
      </figcaption>
      <BarChart responsive data={data} barCategoryGap={1} style={{ width: '100%', height: HEIGHT }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="centre" tickFormatter={(v: number) => v.toFixed(2)} {...xTitled('confidence')} />
        <YAxis domain={[0, 1]} tickFormatter={short} {...yTitled('accuracy')} />
        <Tooltip formatter={short} labelFormatter={(v) => `confidence ${short(v)}`} />
        <Legend />
        <Bar dataKey="accuracy" name="accuracy" fill={IN_COLOUR} isAnimationActive={false} />
        <Bar
          dataKey="confidence"
          name="mean confidence"
          fill={OUT_COLOUR}
          fillOpacity={0.5}
          isAnimationActive={false}
        />
      </BarChart>
    </figure>
  );
}
