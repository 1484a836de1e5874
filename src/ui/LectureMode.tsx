/**
 * Lecture mode (`?present=1` or the explorer's button): the explorer full screen in large, high-contrast type,
 * driven from the keyboard alone: left/right change T, up/down change the image, Space starts or pauses a KD
 * run beside its baseline (whose test-accuracy curves are drawn large), F toggles full screen (a `?present=1`
 * page cannot ask for it before a key press or click), Escape leaves.
 */
import { useEffect, useMemo } from 'react';
import { createPortal } from 'react-dom';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { EPOCH_AXIS, percentAxis } from './chartAxes';
import {
  setPresent,
  stepImage,
  stepTemperature,
  toggleLectureRun,
  useExplorerStore,
  wantExplorer,
} from '../store/explorerActions';
import { accuracyOverlay, baselineFor, type DistillRunRecord, runKey } from '../store/distillState';
import { useDistillStore } from '../store/distillStores';
import { lectureRun } from '../store/lectureState';
import { ExplorerMain } from './ExplorerMain';
import type { ExplorerNumbers } from './useExplorerNumbers';

/** Full screen where the browser allows it: a key press or a click is the gesture it asks for. */
function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => undefined);
  else document.documentElement.requestFullscreen?.().catch(() => undefined);
}

function leave() {
  setPresent(false);
  if (document.fullscreenElement) document.exitFullscreen().catch(() => undefined);
}

/** The lecture's keys, on the whole window while lecture mode is on (nothing else reacts to them). */
function onKey(event: KeyboardEvent) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const actions: Record<string, () => void> = {
    ArrowLeft: () => stepTemperature(-1),
    ArrowRight: () => stepTemperature(1),
    ArrowUp: () => stepImage(-1),
    ArrowDown: () => stepImage(1),
    ' ': () => void toggleLectureRun(),
    Escape: leave,
    f: toggleFullscreen,
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  event.stopPropagation();
  if (event.repeat && event.key === ' ') return;
  action();
}

const runText = (run: DistillRunRecord | null, what: string) => {
  if (!run) return `${what}: not run yet`;
  const last = run.epochs[run.epochs.length - 1];
  const epoch = run.position
    ? `epoch ${run.position.completedEpochs} of ${run.position.epochs}`
    : 'setting up';
  return `${what} #${run.id}: ${run.status}, ${epoch}${last ? `, test ${(last.testAccuracy * 100).toFixed(1)}%` : ''}`;
};

/** The newest KD run and its baseline: test accuracy per epoch, large. */
function LectureRuns() {
  const runs = useDistillStore((s) => s.runs);
  const kd = lectureRun(runs);
  const baseline = kd && baselineFor(runs, kd);
  const { series, points } = useMemo(
    () => accuracyOverlay([kd, baseline].filter((r): r is DistillRunRecord => r !== null)),
    [kd, baseline],
  );
  return (
    <figure className="chart lecture-runs" data-testid="lecture-runs" data-series={series.length}>
      <figcaption>
        <span data-testid="lecture-kd-status">{runText(kd, 'KD')}</span> ·{' '}
        <span>{runText(baseline, 'baseline')}</span>
      </figcaption>
      {points.length === 0 ? (
        <p className="hint">
          {kd
            ? 'Each run adds a point at the end of each epoch.'
            : 'Press Space to start a KD run; its baseline trains right after it.'}
        </p>
      ) : (
        <LineChart responsive data={points} style={{ width: '100%', height: 280 }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis {...EPOCH_AXIS} />
          <YAxis {...percentAxis('test accuracy %')} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(1) : String(v))} />
          <Legend verticalAlign="top" />
          {series.map((run) => (
            <Line
              key={run.id}
              dataKey={runKey(run.id)}
              name={run === kd ? `KD #${run.id}` : `baseline #${run.id}`}
              stroke={run === kd ? '#ffd23f' : '#9ad1ff'}
              strokeWidth={4}
              strokeDasharray={run === kd ? undefined : '8 5'}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      )}
    </figure>
  );
}

export function LectureMode({ numbers }: { numbers: ExplorerNumbers | null }) {
  const status = useExplorerStore((s) => s.teacherStatus);
  const message = useExplorerStore((s) => s.teacherMessage);
  useEffect(() => {
    wantExplorer();
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
  // On the page's body: the explorer panel is a layout container (it keeps its moves' layout to itself).
  return createPortal(
    <div className="lecture" role="dialog" aria-modal="true" aria-label="Lecture mode" data-testid="lecture">
      <div className="lecture-head">
        <h2>What temperature does to a teacher's softmax</h2>
        <p className="lecture-keys">
          ← → temperature · ↑ ↓ image · Space: KD run (start / pause) · F: full screen · Esc: leave
        </p>
        <button type="button" data-testid="lecture-exit" onClick={leave}>
          Leave
        </button>
      </div>
      {numbers ? (
        <ExplorerMain numbers={numbers} large side={<LectureRuns />} />
      ) : (
        <>
          <p className="loading">
            {status === 'loading'
              ? "Computing the teacher's logits…"
              : (message ?? 'Waiting for the teacher…')}
          </p>
          <LectureRuns />
        </>
      )}
    </div>,
    document.body,
  );
}
