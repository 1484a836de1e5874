/**
 * The temperature explorer's two views beyond one image: the entropy of the shown image's softmax against T
 * (recharts, log x axis, the current T marked), and the class-similarity heatmap (the teacher's soft targets at
 * T averaged per true class).
 */
import { memo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { xTitled, yTitled } from './chartAxes';
import { MAX_TEMPERATURE, MIN_TEMPERATURE } from '../engine/config/temperature';
import { formatT, percent } from './ExplorerParts';
import type { EntropyPoint } from './useExplorerNumbers';

/** Re-drawn only when its points or its T change (memo): recharts redraws are the slow part of a move. */
export const EntropyCurve = memo(function EntropyCurve({
  points,
  temperature,
  large,
}: {
  points: readonly EntropyPoint[];
  temperature: number;
  large: boolean;
}) {
  const hasStudent = points.some((p) => p.student !== undefined);
  const last = points[points.length - 1];
  return (
    <figure
      className="chart"
      data-testid="entropy-curve"
      data-points={points.length}
      aria-label={`Entropy of the softmax against temperature for the shown image${last ? `; the teacher's is ${last.teacher.toFixed(2)} nats at T = 20` : ''}`}
    >
      <figcaption>Entropy of the softmax (nats) against T, this image</figcaption>
      <LineChart
        responsive
        data={points as EntropyPoint[]}
        style={{ width: '100%', height: large ? 280 : 220 }}
      >
        <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
        <XAxis
          dataKey="temperature"
          type="number"
          scale="log"
          domain={[MIN_TEMPERATURE, MAX_TEMPERATURE]}
          ticks={[0.5, 1, 2, 4, 10, 20]}
          {...xTitled('temperature T (log)')}
        />
        <YAxis
          domain={[0, Math.ceil(Math.log(10) * 10) / 10]}
          tickFormatter={(v: number) => v.toFixed(1)}
          {...yTitled('entropy (nats)')}
        />
        <Tooltip
          formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))}
          labelFormatter={(t) => `T = ${typeof t === 'number' ? formatT(t) : String(t)}`}
        />
        <Legend verticalAlign="top" />
        <ReferenceLine x={temperature} stroke="#c0392b" strokeDasharray="4 3" />
        <Line
          dataKey="teacher"
          name="teacher"
          stroke="#2d6cdf"
          strokeWidth={large ? 4 : 2}
          dot={false}
          isAnimationActive={false}
        />
        {hasStudent && (
          <Line
            dataKey="student"
            name="student"
            stroke="#d9822b"
            strokeWidth={large ? 4 : 2}
            dot={false}
            isAnimationActive={false}
          />
        )}
      </LineChart>
    </figure>
  );
});

/** Short column heads: the first three letters of each class name. */
const short = (name: string) => name.slice(0, 4);

export function ClassSimilarity({
  matrix,
  classNames,
  temperature,
}: {
  matrix: Float64Array;
  classNames: readonly string[];
  temperature: number;
}) {
  const classes = classNames.length;
  const [offDiagonal, setOffDiagonal] = useState(false);
  // Off the diagonal only: each row's colours scaled to its largest off-diagonal value.
  const rowMax = Array.from({ length: classes }, (_, r) => {
    let max = 0;
    for (let c = 0; c < classes; c++)
      if (c !== r || !offDiagonal) max = Math.max(max, matrix[r * classes + c]!);
    return max || 1;
  });
  return (
    <figure className="class-similarity" data-testid="class-similarity" data-temperature={temperature}>
      <figcaption>
        What each class looks like to the teacher at T = {formatT(temperature)}: its soft targets averaged
        over the test images of each true class (rows)
        <label className="chart-option">
          <input
            type="checkbox"
            checked={offDiagonal}
            onChange={(e) => setOffDiagonal(e.target.checked)}
            data-testid="similarity-off-diagonal"
          />
          scale to the other classes
        </label>
      </figcaption>
      <table>
        <thead>
          <tr>
            <th scope="col">true ↓ / teacher →</th>
            {classNames.map((name) => (
              <th scope="col" key={name} title={name}>
                {short(name)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {classNames.map((rowName, r) => (
            <tr key={rowName}>
              <th scope="row">{rowName}</th>
              {classNames.map((colName, c) => {
                const value = matrix[r * classes + c]!;
                const hidden = offDiagonal && r === c;
                const strength = hidden || Number.isNaN(value) ? 0 : Math.sqrt(value / rowMax[r]!);
                return (
                  <td
                    key={colName}
                    data-testid="similarity-cell"
                    data-value={value}
                    title={`${rowName} → ${colName}: ${percent(value)}`}
                    style={{ backgroundColor: `rgba(45, 108, 223, ${strength.toFixed(3)})` }}
                    className={strength > 0.6 ? 'strong' : undefined}
                  >
                    {Number.isNaN(value) ? '–' : hidden ? '' : (value * 100).toFixed(0)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
