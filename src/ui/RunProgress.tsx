import type { ReactNode } from 'react';
import { useTrainingStore } from '../store/trainingStores';
import type { RunStatus } from '../store/trainingState';
import type { ModelRole, RunPosition } from '../worker/protocol';
import { formatCount } from '../engine/config/format';
import { epochAndStep, formatDuration } from './format';

const STATUS_TEXT: Record<RunStatus, string> = {
  idle: 'Not started',
  starting: 'Starting…',
  running: 'Training',
  pausing: 'Pausing after this step…',
  paused: 'Paused',
  stopping: 'Stopping after this step…',
  stopped: 'Stopped',
  done: 'Done',
  failed: 'Failed',
};

/**
 * Epoch, step, throughput and time left of one run; data-step counts every step of the run so far. Test id
 * `<id>-progress`.
 */
export function RunProgressView({
  id,
  label,
  status,
  statusText,
  position,
  imagesPerSecond,
  etaSeconds,
  datasetName,
  lastSaved = null,
  children,
}: {
  id: string;
  /** Names the progress bar for assistive technology: "student training". */
  label: string;
  status: RunStatus;
  /** Replaces the status's usual words (e.g. what a starting run is doing). */
  statusText?: string;
  position: RunPosition | null;
  imagesPerSecond: number | null;
  etaSeconds: number | null;
  datasetName: string | null;
  /** Where the latest checkpoint stands: a reload or a Ctrl-C loses only what came after. */
  lastSaved?: RunPosition | null;
  /** More facts, after the throughput. */
  children?: ReactNode;
}) {
  const totalSteps = position ? position.stepsPerEpoch * position.epochs : 0;
  const stepsDone = position ? position.completedEpochs * position.stepsPerEpoch + position.stepInEpoch : 0;
  const shown = position ? epochAndStep(position) : null;
  return (
    <div
      className="run-progress"
      data-testid={`${id}-progress`}
      data-status={status}
      data-step={stepsDone}
      data-epoch={position?.completedEpochs ?? 0}
    >
      <progress max={totalSteps || 1} value={stepsDone} aria-label={`${label} progress`} />
      <p>
        <strong>{statusText ?? STATUS_TEXT[status]}</strong>
        {position && (
          <>
            {' '}
            · epoch {shown!.epoch} of {position.epochs} · step {formatCount(shown!.step)} of{' '}
            {formatCount(position.stepsPerEpoch)}
          </>
        )}
        {imagesPerSecond !== null && <> · {formatCount(Math.round(imagesPerSecond))} images/s</>}
        {etaSeconds !== null && status === 'running' && <> · about {formatDuration(etaSeconds)} left</>}
        {children}
      </p>
      {datasetName && (
        <p className="hint">
          on {datasetName}
          {lastSaved && (
            <span
              data-testid={`${id}-saved`}
              data-step={lastSaved.completedEpochs * lastSaved.stepsPerEpoch + lastSaved.stepInEpoch}
            >
              {' '}
              · saved in this browser at epoch {epochAndStep(lastSaved).epoch}, step{' '}
              {formatCount(epochAndStep(lastSaved).step)}
            </span>
          )}
        </p>
      )}
    </div>
  );
}

export function RunProgress({ role }: { role: ModelRole }) {
  const run = useTrainingStore((s) => s[role]);
  return (
    <RunProgressView
      id={role}
      label={`${role} training`}
      status={run.status}
      position={run.position}
      imagesPerSecond={run.imagesPerSecond}
      etaSeconds={run.etaSeconds}
      datasetName={run.datasetName}
      lastSaved={run.lastSaved}
    />
  );
}
