import { type ReactNode, useDeferredValue } from 'react';
import { useExplorerStore } from '../store/explorerActions';
import { useDatasetStore } from '../store/stores';
import { EntropyCurve } from './ExplorerCharts';
import { ExplorerNumbersView, SoftmaxBars, TemperatureSlider, TestImage } from './ExplorerParts';
import { type ExplorerNumbers, useEntropyCurve } from './useExplorerNumbers';

/** The image, slider, bars and numbers: what the panel and lecture mode both show. */
export function ExplorerMain({
  numbers,
  large = false,
  side,
}: {
  numbers: ExplorerNumbers | null;
  large?: boolean;
  /** Shown under the entropy curve (lecture mode: the KD run and its baseline). */
  side?: ReactNode;
}) {
  const curve = useEntropyCurve();
  // The curve follows T a render later: bars and numbers first, so that a slider move stays quick.
  const curveTemperature = useDeferredValue(useExplorerStore((s) => s.temperature));
  const selected = useExplorerStore((s) => s.selected);
  const image = useExplorerStore((s) => (s.selected === null ? undefined : s.images[s.selected]));
  const student = useExplorerStore((s) => s.student);
  const classNames = useDatasetStore((s) => s.summary?.classNames) ?? [];
  if (!numbers) return null;
  return (
    <div className="explorer-main" data-testid="explorer-main" data-selected={selected ?? ''}>
      <div className="explorer-image">
        {image ? (
          <TestImage image={image} className="explorer-big-image" />
        ) : (
          <span className="thumb-placeholder big" />
        )}
        <p>
          Test image {selected}: <strong data-testid="explorer-label">{classNames[numbers.label]}</strong>
        </p>
        <ExplorerNumbersView numbers={numbers} classNames={classNames} />
      </div>
      <div className="explorer-distribution">
        <TemperatureSlider />
        <SoftmaxBars numbers={numbers} classNames={classNames} hasStudent={student !== null} />
      </div>
      <div className="explorer-side">
        <EntropyCurve points={curve} temperature={curveTemperature} large={large} />
        {side}
      </div>
    </div>
  );
}
