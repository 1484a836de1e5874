import { useBackendStore, useDatasetStore } from '../store/stores';
import { pauseTraining, resumeTraining, startTraining, stopTraining } from '../store/trainingActions';
import { activeRole, usePresetStore, useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { checkForm } from '../store/trainForm';
import { hasLiveRun } from '../store/trainingState';
import type { ModelRole } from '../worker/protocol';

/** Why Start is not available now, or null when it is. */
function useStartBlocker(role: ModelRole): string | null {
  const form = useTrainingStore((s) => s[role].form);
  const status = useTrainingStore((s) => s[role].status);
  const other = useTrainingStore(activeRole);
  const presets = usePresetStore((s) => s.presets);
  const backendReady = useBackendStore((s) => s.status === 'ready');
  const dataset = useDatasetStore((s) => s.summary);
  const teacherBusy = useTeacherStore((s) => s.busy);
  if (hasLiveRun(status)) return null;
  if (!backendReady || !presets) return 'The engine is starting…';
  if (!dataset) return 'The dataset is loading…';
  if (dataset.trainSize === 0) return `${dataset.name} has no training images.`;
  if (other && other !== role) return `The ${other} is training; pause it to train the ${role}.`;
  // A new teacher run replaces the teacher being loaded or measured.
  if (role === 'teacher' && teacherBusy) return 'The teacher is loading…';
  return checkForm(form, role).error ? 'Fix the settings to start.' : null;
}

export function RunControls({ role }: { role: ModelRole }) {
  const status = useTrainingStore((s) => s[role].status);
  const blowUp = useTrainingStore((s) => s[role].blowUp);
  const blocker = useStartBlocker(role);
  const id = (name: string) => `${role}-${name}`;
  const canResume = status === 'paused' && (blowUp?.resumable ?? true);
  return (
    <div className="run-controls">
      <button
        type="button"
        data-testid={id('train-start')}
        disabled={hasLiveRun(status) || blocker !== null}
        onClick={() => void startTraining(role)}
      >
        Start
      </button>
      <button
        type="button"
        data-testid={id('train-pause')}
        disabled={status !== 'running'}
        onClick={() => void pauseTraining(role)}
      >
        Pause
      </button>
      <button
        type="button"
        data-testid={id('train-resume')}
        disabled={!canResume}
        onClick={() => void resumeTraining(role)}
      >
        Resume
      </button>
      <button
        type="button"
        data-testid={id('train-stop')}
        disabled={status !== 'running' && status !== 'paused'}
        onClick={() => void stopTraining(role)}
      >
        Stop
      </button>
      {blocker && !hasLiveRun(status) && <span className="hint">{blocker}</span>}
    </div>
  );
}
