import { useTrainingStore } from '../store/trainingStores';
import type { RunStatus } from '../store/trainingState';
import type { ModelRole } from '../worker/protocol';
import { formatCount } from '../engine/data/cifar10';
import { formatDuration } from './format';

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

/** Epoch, step, throughput and time left; data-step counts every step of the run so far. */
export function RunProgress({ role }: { role: ModelRole }) {
  const status = useTrainingStore((s) => s[role].status);
  const position = useTrainingStore((s) => s[role].position);
  const imagesPerSecond = useTrainingStore((s) => s[role].imagesPerSecond);
  const etaSeconds = useTrainingStore((s) => s[role].etaSeconds);
  const datasetName = useTrainingStore((s) => s[role].datasetName);
  const totalSteps = position ? position.stepsPerEpoch * position.epochs : 0;
  const stepsDone = position ? position.completedEpochs * position.stepsPerEpoch + position.stepInEpoch : 0;
  const epochShown = position ? Math.min(position.completedEpochs + 1, position.epochs) : 0;
  return (
    <div
      className="run-progress"
      data-testid={`${role}-progress`}
      data-status={status}
      data-step={stepsDone}
      data-epoch={position?.completedEpochs ?? 0}
    >
      <progress max={totalSteps || 1} value={stepsDone} aria-label={`${role} training progress`} />
      <p>
        <strong>{STATUS_TEXT[status]}</strong>
        {position && (
          <>
            {' '}
            · epoch {epochShown} of {position.epochs} · step {formatCount(position.stepInEpoch)} of{' '}
            {formatCount(position.stepsPerEpoch)}
          </>
        )}
        {imagesPerSecond !== null && <> · {formatCount(Math.round(imagesPerSecond))} images/s</>}
        {etaSeconds !== null && status === 'running' && <> · about {formatDuration(etaSeconds)} left</>}
      </p>
      {datasetName && <p className="hint">on {datasetName}</p>}
    </div>
  );
}
