/**
 * Axis settings every chart of the lab shares, so that each axis says what it measures (a title) the same way
 * everywhere: spread them onto recharts' <XAxis>/<YAxis>.
 */
import type { XAxisProps, YAxisProps } from 'recharts';

/** An x axis titled at its right end. */
export const xTitled = (title: string): Partial<XAxisProps> => ({
  height: 36,
  label: { value: title, position: 'insideBottomRight', offset: 0 },
});

/** A y axis titled along its length. */
export const yTitled = (title: string): Partial<YAxisProps> => ({
  width: 56,
  label: { value: title, angle: -90, position: 'insideLeft' },
});

/** Epochs 1, 2, ... along x. */
export const EPOCH_AXIS: Partial<XAxisProps> = {
  dataKey: 'epoch',
  type: 'number',
  domain: [1, 'dataMax'],
  allowDecimals: false,
  ...xTitled('epoch'),
};

/** A percentage from 0 to 100 along y. */
export const percentAxis = (title: string): Partial<YAxisProps> => ({ domain: [0, 100], ...yTitled(title) });
