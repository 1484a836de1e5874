/** Number formats the training panels share. */

/** "45 s", "3 min 10 s", "1 h 05 min": coarse on purpose, an ETA is an estimate. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return `${Math.floor(s / 60)} min${rest ? ` ${rest} s` : ''}`;
  }
  const minutes = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h ${String(minutes).padStart(2, '0')} min`;
}

const SI = [
  { factor: 1e9, unit: 'G' },
  { factor: 1e6, unit: 'M' },
  { factor: 1e3, unit: 'k' },
];

/** 3 significant digits with an SI prefix: 2,310,000 -> "2.31 M". */
export function formatSi(value: number): string {
  const prefix = SI.find((p) => Math.abs(value) >= p.factor);
  const scaled = prefix ? value / prefix.factor : value;
  return `${Number(scaled.toPrecision(3))}${prefix ? ` ${prefix.unit}` : ''}`;
}

/** A fraction as a percentage with one decimal: 0.8523 -> "85.2%"; NaN (nothing to measure) -> "n/a". */
export const formatPercent = (fraction: number): string =>
  Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : 'n/a';

/**
 * The epoch and step a progress line names. At an epoch boundary the epoch just finished is shown as
 * complete ("epoch 1 of 1 · step 157 of 157"), not as the next one at step 0; before any step, epoch 1 step 0.
 */
export function epochAndStep(position: {
  readonly completedEpochs: number;
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly epochs: number;
}): { readonly epoch: number; readonly step: number } {
  const { completedEpochs, stepInEpoch, stepsPerEpoch, epochs } = position;
  if (stepInEpoch === 0 && completedEpochs > 0) return { epoch: completedEpochs, step: stepsPerEpoch };
  return { epoch: Math.min(completedEpochs + 1, epochs), step: stepInEpoch };
}
