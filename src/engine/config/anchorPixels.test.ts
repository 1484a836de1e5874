import { describe, expect, it } from 'vitest';
import { divergingColour, maskedRgba, overlayRgba, scaleOf } from './anchorPixels';

const image = (r: number, g: number, b: number, pixels = 4) =>
  Uint8ClampedArray.from({ length: pixels * 4 }, (_, i) => [r, g, b, 255][i % 4]!);

describe('anchor gallery pixels', () => {
  it('colours a mask blue below 1, white at 1, red above, symmetric in its scale', () => {
    expect(divergingColour(0)).toEqual([247, 247, 247]);
    expect(divergingColour(-1)).toEqual([33, 102, 172]);
    expect(divergingColour(1)).toEqual([178, 24, 43]);
    expect(divergingColour(5)).toEqual(divergingColour(1));
    expect(scaleOf([Float32Array.of(1, 0.8, 1.1), null])).toBeCloseTo(0.2, 6);
  });

  it('shows the dataset-mean colour where a mask is 0, the image where it is 1, and an overlay by opacity', () => {
    const mean = [125, 123, 114] as const;
    const masked = maskedRgba(image(200, 50, 10), Float32Array.of(0, 1, 0.5, 2), mean);
    expect(Array.from(masked.subarray(0, 4))).toEqual([125, 123, 114, 255]);
    expect(Array.from(masked.subarray(4, 8))).toEqual([200, 50, 10, 255]);
    // 162.5 and 86.5: Uint8ClampedArray rounds halves to even.
    expect(Array.from(masked.subarray(8, 12))).toEqual([162, 86, 62, 255]);
    expect(Array.from(masked.subarray(12, 15))).toEqual([255, 0, 0]); // clamped
    const source = image(200, 50, 10);
    expect(Array.from(overlayRgba(source, Float32Array.of(1, 2, 0, 1), 1, 0))).toEqual(Array.from(source));
    expect(Array.from(overlayRgba(source, Float32Array.of(2, 1, 0, 1), 1, 1).subarray(0, 3))).toEqual([
      178, 24, 43,
    ]);
  });
});
