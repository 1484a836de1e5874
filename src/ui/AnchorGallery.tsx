/**
 * The Anchors panel: AKD's anchors of the current teacher (preview before any training), grouped by class, each
 * with its learned mask; live while a distillation whose method learns anchor masks runs (the method declares it:
 * `learnsAnchorMasks`), with a replay of each epoch's masks; neighbours on click; export as one PNG.
 * Reading a mask: docs in README.md ("The anchor gallery").
 */
import { useEffect, useMemo } from 'react';
import {
  ANCHORS_PER_CLASS,
  type AnchorsPerClass,
  LIVE_INTERVAL_MS,
  previewAnchors,
  refreshRunAnchors,
  selectAnchor,
  setAnchorsPerClass,
  setMaskOpacity,
  showEpoch,
  useAnchorGalleryStore,
} from '../store/anchorGallery';
import { useDistillStore } from '../store/distillStores';
import { liveRun } from '../store/distillState';
import type { AnchorGalleryView } from '../worker/protocol';
import { AnchorCard, MaskLegend, NeighboursView } from './AnchorCards';
import { maskedRgba, overlayRgba, scaleOf } from '../engine/config/anchorPixels';

/** Polls the Worker for masks once a second while a run of a mask-learning method trains, and once at its end. */
function useLiveMasks(): void {
  const live = useDistillStore((s) => {
    const run = liveRun(s);
    const learns = run && s.methods?.find((m) => m.id === run.method)?.learnsAnchorMasks;
    return learns ? `${run.id}:${run.status}` : null;
  });
  useEffect(() => {
    if (!live) return undefined;
    void refreshRunAnchors();
    if (!live.endsWith(':running')) return undefined;
    const timer = window.setInterval(() => void refreshRunAnchors(), LIVE_INTERVAL_MS);
    return () => {
      window.clearInterval(timer);
      // The masks as the run paused or ended.
      void refreshRunAnchors();
    };
  }, [live]);
}

/** The gallery as one PNG: per anchor a row of image, mask, masked image, with its class and numbers. */
async function exportPng(view: AnchorGalleryView, masks: readonly (Float32Array | null)[], opacity: number) {
  const cell = 96;
  const rowHeight = cell + 8;
  const canvas = document.createElement('canvas');
  canvas.width = 3 * cell + 360;
  canvas.height = 28 + view.anchors.length * rowHeight;
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000';
  context.font = '14px sans-serif';
  context.fillText(`Anchors (${view.label}): image, mask over image, masked image`, 8, 18);
  context.imageSmoothingEnabled = false;
  const scale = scaleOf(masks);
  const tile = document.createElement('canvas');
  tile.width = tile.height = 32;
  const tileContext = tile.getContext('2d')!;
  view.anchors.forEach((anchor, i) => {
    const mask = masks[i] ?? new Float32Array(32 * 32).fill(1);
    const y = 28 + i * rowHeight;
    [
      anchor.rgba,
      overlayRgba(anchor.rgba, mask, scale, opacity),
      maskedRgba(anchor.rgba, mask, view.meanRgb),
    ].forEach((rgba, k) => {
      tileContext.putImageData(new ImageData(new Uint8ClampedArray(rgba), 32, 32), 0, 0);
      context.drawImage(tile, k * cell, y, cell, cell);
    });
    const move = anchor.maskStats
      ? `mean |m-1| ${anchor.maskStats.meanAbsMove.toExponential(2)}`
      : 'no mask yet';
    context.fillText(anchor.className, 3 * cell + 12, y + 24);
    context.fillText(`#${anchor.rank} in class, record ${anchor.index}`, 3 * cell + 12, y + 44);
    context.fillText(move, 3 * cell + 12, y + 64);
  });
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the browser could not encode the gallery as PNG');
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = 'anchors.png';
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function AnchorGallery() {
  useLiveMasks();
  const state = useAnchorGalleryStore();
  const { view, epochShown, opacity } = state;
  const masks = useMemo(() => {
    if (!view) return [];
    const epoch = epochShown === null ? null : view.history[epochShown];
    return view.anchors.map((a, i) => (epoch ? epoch[i]! : a.mask));
  }, [view, epochShown]);
  const scale = scaleOf(masks);
  const stats = view?.anchors.flatMap((a) => (a.maskStats ? [a.maskStats] : [])) ?? [];
  const classes = view ? [...new Set(view.anchors.map((a) => a.className))] : [];
  const progress = state.progress;
  return (
    <section className="panel anchor-panel" data-testid="panel-anchors" aria-labelledby="anchors-title">
      <h2 id="anchors-title">Anchors</h2>
      <p className="hint">
        The images AKD picks as anchors (per class, the most central by the teacher&apos;s features) and the
        attention masks it learns for them. Preview them for the current teacher before training; an AKD run
        shows its masks live.
      </p>
      <div className="anchor-controls">
        <label>
          Anchors per class{' '}
          <select
            data-testid="anchors-per-class"
            value={state.perClass}
            onChange={(e) => setAnchorsPerClass(Number(e.target.value) as AnchorsPerClass)}
          >
            {ANCHORS_PER_CLASS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          data-testid="anchors-preview"
          onClick={() => void previewAnchors()}
          disabled={state.previewing}
        >
          Preview anchors
        </button>
        {state.previewing || progress ? (
          <progress
            data-testid="anchors-progress"
            max={progress?.total ?? 1}
            value={progress?.done ?? 0}
            aria-label="teacher features read"
          />
        ) : null}
        <label>
          Mask opacity{' '}
          <input
            type="range"
            data-testid="anchors-opacity"
            min={0}
            max={1}
            step={0.05}
            value={opacity}
            onChange={(e) => setMaskOpacity(Number(e.target.value))}
          />
        </label>
        <button
          type="button"
          data-testid="anchors-export"
          disabled={!view}
          onClick={() => view && void exportPng(view, masks, opacity)}
        >
          Export PNG
        </button>
      </div>
      {view ? (
        <>
          <p data-testid="anchors-source" data-source={view.source}>
            {view.source === 'run'
              ? `Masks of the run: ${view.label}`
              : 'Teacher preview: no masks trained yet (all ones).'}
          </p>
          {view.history.length ? (
            <label className="anchor-scrubber">
              Replay{' '}
              <input
                type="range"
                data-testid="anchors-epoch"
                min={0}
                max={view.history.length}
                value={epochShown ?? view.history.length}
                onChange={(e) => {
                  const k = Number(e.target.value);
                  showEpoch(k >= view.history.length ? null : k);
                }}
              />{' '}
              {epochShown === null ? 'latest' : `end of epoch ${epochShown + 1}`}
            </label>
          ) : null}
          <MaskLegend
            scale={scale}
            min={Math.min(...stats.map((s) => s.min), 1)}
            max={Math.max(...stats.map((s) => s.max), 1)}
          />
          <div className="anchor-gallery" data-testid="anchor-gallery" data-version={state.version}>
            {classes.map((name) => (
              <div key={name} className="anchor-class">
                <h3>{name}</h3>
                <ul>
                  {view.anchors.map((anchor, i) =>
                    anchor.className === name ? (
                      <AnchorCard
                        key={anchor.index}
                        anchor={anchor}
                        mask={masks[i] ?? null}
                        scale={scale}
                        opacity={opacity}
                        meanRgb={view.meanRgb}
                        selected={state.selected === anchor.index}
                        onSelect={() => void selectAnchor(anchor.index)}
                      />
                    ) : null,
                  )}
                </ul>
              </div>
            ))}
          </div>
          {state.neighboursLoading ? <p className="hint">Reading the teacher&apos;s features…</p> : null}
          {state.neighbours ? <NeighboursView neighbours={state.neighbours} /> : null}
        </>
      ) : (
        <p className="hint" data-testid="anchors-empty">
          No anchors shown yet.
        </p>
      )}
    </section>
  );
}
