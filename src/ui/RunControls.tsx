import type { ReactNode } from 'react';
import { useBackendStore, useDatasetStore } from '../store/stores';
import { useSweepStore } from '../store/sweepStore';
import { distillActive, useDistillStore } from '../store/distillStores';
import { pauseTraining, resumeTraining, startTraining, stopTraining } from '../store/trainingActions';
import { activeRole, usePresetStore, useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { checkForm } from '../store/trainForm';
import { hasLiveRun, type RunStatus } from '../store/trainingState';
import type { ModelRole } from '../worker/protocol';

/** Why no run can start yet (engine, presets, dataset), or null. Shared by the training and distillation panels. */
export function useLabBlocker(): string | null {
  const presets = usePresetStore((s) => s.presets);
  const backendReady = useBackendStore((s) => s.status === 'ready');
  const dataset = useDatasetStore((s) => s.summary);
  // The engine trains one thing at a time: a sweep's cells hold it until the sweep ends or is cancelled.
  const sweeping = useSweepStore((s) => s.status === 'running' || s.status === 'cancelling');
  if (!backendReady || !presets) return 'The engine is starting…';
  if (!dataset) return 'The dataset is loading…';
  if (dataset.trainSize === 0) return `${dataset.name} has no training images.`;
  if (sweeping) return 'A sweep is running; cancel it to start a run.';
  return null;
}

/** Why Start is not available now, or null when it is. */
function useStartBlocker(role: ModelRole): string | null {
  const form = useTrainingStore((s) => s[role].form);
  const status = useTrainingStore((s) => s[role].status);
  const other = useTrainingStore(activeRole);
  const distilling = useDistillStore(distillActive);
  const teacherBusy = useTeacherStore((s) => s.loading);
  const lab = useLabBlocker();
  if (hasLiveRun(status)) return null;
  if (lab) return lab;
  if (other && other !== role) return `The ${other} is training; pause it to train the ${role}.`;
  if (distilling) return `A distillation is running; pause it to train the ${role}.`;
  // A new teacher run replaces the teacher being loaded (a measurement in flight yields to it).
  if (role === 'teacher' && teacherBusy) return 'The teacher is loading…';
  return checkForm(form, role).error ? 'Fix the settings to start.' : null;
}

/** Start / Pause / Resume / Stop for one run; test ids are `<id>-train-start` and so on. */
export function RunButtons({
  id,
  status,
  canResume,
  blocker,
  onStart,
  onPause,
  onResume,
  onStop,
  children,
}: {
  id: string;
  status: RunStatus;
  canResume: boolean;
  /** Why Start is off; shown beside the buttons while no run is live. */
  blocker: string | null;
  onStart: () => void;
  onPause: () => void;
  onResume: () => void;
  onStop: () => void;
  /** More buttons, after Start. */
  children?: ReactNode;
}) {
  return (
    <div className="run-controls">
      <button
        type="button"
        data-testid={`${id}-train-start`}
        disabled={hasLiveRun(status) || blocker !== null}
        onClick={onStart}
      >
        Start
      </button>
      {children}
      <button
        type="button"
        data-testid={`${id}-train-pause`}
        disabled={status !== 'running'}
        onClick={onPause}
      >
        Pause
      </button>
      <button type="button" data-testid={`${id}-train-resume`} disabled={!canResume} onClick={onResume}>
        Resume
      </button>
      <button
        type="button"
        data-testid={`${id}-train-stop`}
        disabled={status !== 'running' && status !== 'paused'}
        onClick={onStop}
      >
        Stop
      </button>
      {blocker && !hasLiveRun(status) && (
        <span className="hint" data-testid={`${id}-start-blocker`}>
          {blocker}
        </span>
      )}
    </div>
  );
}

export function RunControls({ role }: { role: ModelRole }) {
  const status = useTrainingStore((s) => s[role].status);
  const blowUp = useTrainingStore((s) => s[role].blowUp);
  const blocker = useStartBlocker(role);
  return (
    <RunButtons
      id={role}
      status={status}
      canResume={status === 'paused' && (blowUp?.resumable ?? true)}
      blocker={blocker}
      onStart={() => void startTraining(role)}
      onPause={() => void pauseTraining(role)}
      onResume={() => void resumeTraining(role)}
      onStop={() => void stopTraining(role)}
    />
  );
}
