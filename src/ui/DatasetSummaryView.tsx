import { formatCount } from '../engine/config/format';
import type { DatasetSummary } from '../worker/protocol';

const fmt = (values: readonly number[]) => values.map((v) => v.toFixed(4)).join(' / ');

export function DatasetSummaryView({ summary }: { summary: DatasetSummary }) {
  return (
    <div className="dataset-summary" data-testid="dataset-summary" data-dataset-id={summary.id}>
      <p className="dataset-name" data-testid="dataset-name">
        {summary.name}
      </p>
      <p>
        <strong data-testid="train-size">{formatCount(summary.trainSize)}</strong> train ·{' '}
        <strong data-testid="test-size">{formatCount(summary.testSize)}</strong> test images
      </p>
      <table className="class-counts">
        <thead>
          <tr>
            <th>class</th>
            <th>train</th>
            <th>test</th>
          </tr>
        </thead>
        <tbody>
          {summary.classNames.map((name, c) => (
            <tr key={name}>
              <td>{name}</td>
              <td>{formatCount(summary.trainClassCounts[c] ?? 0)}</td>
              <td>{formatCount(summary.testClassCounts[c] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {summary.channelStats ? (
        <dl className="channel-stats" data-testid="channel-stats">
          <dt>mean (R / G / B)</dt>
          <dd>{fmt(summary.channelStats.mean)}</dd>
          <dt>std (R / G / B)</dt>
          <dd>{fmt(summary.channelStats.std)}</dd>
          <dd className="hint">training split, pixels in [0, 1], population std</dd>
        </dl>
      ) : (
        <p className="hint">No training images, so no channel statistics.</p>
      )}
    </div>
  );
}
