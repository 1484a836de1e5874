import { distillActive, useDistillStore } from '../store/distillStores';
import { discardSavedRun, resumeSavedRun } from '../store/trainingActions';
import { activeRole, useTrainingStore } from '../store/trainingStores';
import type { ModelRole } from '../worker/protocol';
import { formatPercent } from './format';

/** A run an earlier visit saved in this browser: resume it from its checkpoint, or discard it. */
export function ResumeOffer({ role }: { role: ModelRole }) {
  const saved = useTrainingStore((s) => s[role].savedRun);
  const distilling = useDistillStore(distillActive);
  const busy = useTrainingStore(activeRole) !== null || distilling;
  if (!saved) return null;
  const at = saved.stepInEpoch
    ? `${saved.completedEpochs} of ${saved.epochs} epochs and ${saved.stepInEpoch} steps done`
    : `${saved.completedEpochs} of ${saved.epochs} epochs done`;
  return (
    <div className="resume-offer" role="region" aria-label={`Saved ${role} run`} data-testid="resume-offer">
      <p>
        <strong>A {role} run is saved in this browser</strong>: {saved.preset} on {saved.datasetName}, {at}
        {saved.testAccuracy !== null && <>, test accuracy {formatPercent(saved.testAccuracy)}</>} (saved{' '}
        {new Date(saved.savedAt).toLocaleString()}).
      </p>
      <button
        type="button"
        data-testid="resume-offer-resume"
        disabled={busy}
        onClick={() => void resumeSavedRun(role)}
      >
        Resume
      </button>
      <button type="button" data-testid="resume-offer-discard" onClick={() => void discardSavedRun(role)}>
        Discard
      </button>
    </div>
  );
}
