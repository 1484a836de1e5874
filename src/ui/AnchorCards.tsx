/**
 * The anchor gallery's pieces: a card per anchor (image, mask heatmap over it, masked image, rank and how far the
 * mask moved), the colour legend, and the chosen anchor's neighbours. Pixels: anchorPixels.ts.
 */
import { useEffect, useRef } from 'react';
import type { AnchorNeighbours, GalleryAnchor, GalleryImage } from '../worker/protocol';
import { divergingColour, maskedRgba, overlayRgba } from '../engine/config/anchorPixels';

/** A 32x32 RGBA image on a canvas (scaled up by CSS). */
export function PixelCanvas({
  rgba,
  label,
  testId,
}: {
  rgba: Uint8ClampedArray;
  label: string;
  testId?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    ref.current?.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(rgba), 32, 32), 0, 0);
  }, [rgba]);
  return <canvas ref={ref} width={32} height={32} aria-label={label} data-testid={testId} />;
}

const formatMove = (x: number) => (x === 0 ? '0' : x < 1e-3 ? x.toExponential(1) : x.toFixed(4));

export function AnchorCard({
  anchor,
  mask,
  scale,
  opacity,
  meanRgb,
  selected,
  onSelect,
}: {
  anchor: GalleryAnchor;
  /** The mask shown (live or an epoch's), upsampled; null before training. */
  mask: Float32Array | null;
  scale: number;
  opacity: number;
  meanRgb: readonly [number, number, number];
  selected: boolean;
  onSelect: () => void;
}) {
  const ones = new Float32Array(32 * 32).fill(1);
  const shown = mask ?? ones;
  return (
    <li
      className={selected ? 'anchor-card selected' : 'anchor-card'}
      data-testid="anchor-card"
      data-class={anchor.className}
      data-index={anchor.index}
    >
      <button type="button" onClick={onSelect} aria-pressed={selected} title="Show its neighbours">
        <span className="anchor-images">
          <PixelCanvas rgba={anchor.rgba} label={`${anchor.className} anchor`} testId="anchor-image" />
          <PixelCanvas
            rgba={overlayRgba(anchor.rgba, shown, scale, opacity)}
            label="mask"
            testId="anchor-mask"
          />
          <PixelCanvas
            rgba={maskedRgba(anchor.rgba, shown, meanRgb)}
            label="masked image"
            testId="anchor-masked"
          />
        </span>
        <span className="anchor-caption">
          #{anchor.rank} of {anchor.classSize.toLocaleString('en-US')} in {anchor.className} · centrality{' '}
          {anchor.centrality.toFixed(1)}
          <br />
          <span data-testid="anchor-move">
            {anchor.maskStats
              ? `mean |m − 1| = ${formatMove(anchor.maskStats.meanAbsMove)}`
              : 'mask: not trained yet'}
          </span>
        </span>
      </button>
    </li>
  );
}

/** The diverging scale: its low end, 1 and its high end, with the values they stand for. */
export function MaskLegend({ scale, min, max }: { scale: number; min: number; max: number }) {
  const stops = [-1, -0.5, 0, 0.5, 1].map((t) => `rgb(${divergingColour(t).join(',')}) ${(t + 1) * 50}%`);
  return (
    <div className="mask-legend" data-testid="mask-legend">
      <span
        className="mask-legend-bar"
        style={{ background: `linear-gradient(to right, ${stops.join(', ')})` }}
      />
      <span className="mask-legend-labels">
        <span>{(1 - scale).toPrecision(4)}</span>
        <span>1</span>
        <span>{(1 + scale).toPrecision(4)}</span>
      </span>
      <span className="hint">
        Colour scale: 1 ± {scale.toPrecision(3)} (the largest |m − 1| shown, upsampled); the 14 × 14 mask
        cells range {min.toPrecision(4)} to {max.toPrecision(4)}. Blue: the student sees less of the image
        there (towards the dataset-mean colour), red: more contrast.
      </span>
    </div>
  );
}

function ImageRow({
  title,
  images,
  scoreText,
}: {
  title: string;
  images: readonly GalleryImage[];
  scoreText: (s: number) => string;
}) {
  return (
    <div>
      <h4>{title}</h4>
      <ul className="neighbour-row">
        {images.map((image) => (
          <li key={image.index} data-testid="neighbour" data-class={image.className}>
            <PixelCanvas rgba={image.rgba} label={image.className} />
            <span>
              {image.className} · {scoreText(image.score)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function NeighboursView({ neighbours }: { neighbours: AnchorNeighbours }) {
  return (
    <div className="anchor-neighbours" data-testid="anchor-neighbours" data-anchor={neighbours.anchor}>
      <ImageRow
        title="Nearest training images in the teacher's feature space"
        images={neighbours.nearest}
        scoreText={(s) => `cos ${s.toFixed(3)}`}
      />
      <ImageRow
        title="Least central images of its class (the atypical ones)"
        images={neighbours.leastCentral}
        scoreText={(s) => `rank ${s.toLocaleString('en-US')}`}
      />
      <p className="hint">
        Central means typical: an anchor&apos;s features point the way most of its class points (the row sum
        of the class&apos;s cosine similarities); the least central images are the unusual views.
      </p>
    </div>
  );
}
