/**
 * The anchor gallery's pixels, pure (unit-tested): the diverging heatmap of a mask (centred on 1: blue below,
 * white at 1, red above), the heatmap over the image at an opacity, and the masked image as the student sees it.
 * The student's input is normalised, (x - mean) / std, and the mask multiplies that, so in pixel space the masked
 * image is mean + (x - mean) * m: a mask value of 0 shows the dataset-mean colour, not black.
 */

/** RdBu's ends and centre (ColorBrewer): blue for m < 1, white at 1, red for m > 1. */
const LOW = [33, 102, 172] as const;
const MID = [247, 247, 247] as const;
const HIGH = [178, 24, 43] as const;

/** The colour of t in [-1, 1] (clamped): -1 blue, 0 white, 1 red. */
export function divergingColour(t: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = x < 0 ? LOW : HIGH;
  const f = Math.abs(x);
  return [0, 1, 2].map((c) => Math.round(MID[c]! + (end[c]! - MID[c]!) * f)) as [number, number, number];
}

/** The largest |m - 1| over some masks: the half-width of the colour scale (a floor keeps all-ones white). */
export function scaleOf(masks: readonly (ArrayLike<number> | null)[]): number {
  let d = 0;
  for (const mask of masks)
    if (mask) for (let i = 0; i < mask.length; i++) d = Math.max(d, Math.abs(mask[i]! - 1));
  return Math.max(d, 1e-9);
}

/** The heatmap of a mask over its image: (1 - opacity) * image + opacity * colour((m - 1) / scale). */
export function overlayRgba(
  rgba: Uint8ClampedArray,
  mask: ArrayLike<number>,
  scale: number,
  opacity: number,
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length);
  for (let p = 0; p < mask.length; p++) {
    const colour = divergingColour((mask[p]! - 1) / scale);
    for (let c = 0; c < 3; c++) out[p * 4 + c] = (1 - opacity) * rgba[p * 4 + c]! + opacity * colour[c]!;
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** The masked image in pixel space: mean + (x - mean) * m per channel. */
export function maskedRgba(
  rgba: Uint8ClampedArray,
  mask: ArrayLike<number>,
  meanRgb: readonly [number, number, number],
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length);
  for (let p = 0; p < mask.length; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = meanRgb[c]! + (rgba[p * 4 + c]! - meanRgb[c]!) * mask[p]!;
    out[p * 4 + 3] = 255;
  }
  return out;
}
