/**
 * Axis settings and number formats every chart of the lab shares, so that each axis says what it measures (a
 * title) the same way everywhere: spread them onto recharts' <XAxis>/<YAxis>, pass the formats to ticks and
 * tooltips. Each is one object per key, so live charts redraw cheaply (docs/design.md §5, "the main thread").
 */
import type { XAxisProps, YAxisProps } from 'recharts';

/**
 * The same value for the same key, every call. recharts 3 compares its components' props (and re-dispatches
 * an axis's or a tooltip's settings into its store when they differ), so a prop built anew at every render
 * costs a store update per redraw; a live chart redraws a few times a second.
 */
function sameForSameKey<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key)!;
  };
}

/** An x axis titled at its right end. */
export const xTitled = sameForSameKey((title: string): Partial<XAxisProps> => ({
  height: 36,
  label: { value: title, position: 'insideBottomRight', offset: 0 },
}));

/**
 * A y axis titled along its length, centred on it: recharts starts a rotated 'insideLeft' title at the axis's
 * middle and runs it upwards, so a title longer than half the axis ran off the chart's top ("accuracy %" showed
 * as "accuracy 9").
 */
export const yTitled = sameForSameKey((title: string): Partial<YAxisProps> => ({
  width: 56,
  label: { value: title, angle: -90, position: 'insideLeft', textAnchor: 'middle' },
}));

/** A number with a fixed count of decimals (ticks, tooltips); anything else as it is. */
export const fixed = sameForSameKey(
  (digits: number) => (value: unknown) => (typeof value === 'number' ? value.toFixed(digits) : String(value)),
);

/** A tooltip's title from the x value: "step 12", "epoch 3". */
export const labelled = sameForSameKey((unit: string) => (x: unknown) => `${unit} ${String(x)}`);

/** Whole counts along x from `first` to the last point's, titled by what they count. */
const countAxis = (key: 'epoch' | 'step', first: number): Partial<XAxisProps> => ({
  dataKey: key,
  type: 'number',
  domain: [first, 'dataMax'],
  allowDecimals: false,
  ...xTitled(key),
});

/** Epochs 1, 2, ... along x. */
export const EPOCH_AXIS = countAxis('epoch', 1);

/** Training steps 1, 2, ... along x, from 0. */
export const STEP_AXIS = countAxis('step', 0);

/** A percentage from 0 to 100 along y. */
export const percentAxis = sameForSameKey((title: string): Partial<YAxisProps> => ({
  domain: [0, 100],
  ...yTitled(title),
}));
