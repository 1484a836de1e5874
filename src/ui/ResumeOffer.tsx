import { discardSavedDistillation, resumeSavedDistillation } from '../store/distillActions';
import { distillActive, useDistillStore } from '../store/distillStores';
import { discardSavedRun, resumeSavedRun } from '../store/trainingActions';
import { activeRole, useTeacherStore, useTrainingStore } from '../store/trainingStores';
import type { RunLane, SavedRunSummary } from '../worker/protocol';
import { formatPercent } from './format';

const LANE_NAMES: Record<RunLane, string> = {
  teacher: 'teacher',
  student: 'student',
  distill: 'distillation',
};

/**
 * A run an earlier visit saved in this browser (the Teacher, Student or Distillation panel's): resume it from
 * its checkpoint, with its curves, or discard it.
 */
export function ResumeOffer({ lane }: { lane: RunLane }) {
  const saved = useTrainingStore((s) => (lane === 'distill' ? null : s[lane].savedRun));
  const savedDistillation = useDistillStore((s) => s.savedRun);
  const distilling = useDistillStore(distillActive);
  // A distillation resumes from its teacher: the shipped one may still be loading.
  const teacherLoading = useTeacherStore((s) => s.loading) && lane === 'distill';
  const busy = useTrainingStore(activeRole) !== null || distilling || teacherLoading;
  const shown: SavedRunSummary | null = lane === 'distill' ? savedDistillation : saved;
  if (!shown) return null;
  const name = LANE_NAMES[lane];
  const at = shown.stepInEpoch
    ? `${shown.completedEpochs} of ${shown.epochs} epochs and ${shown.stepInEpoch} steps done`
    : `${shown.completedEpochs} of ${shown.epochs} epochs done`;
  const what = lane === 'distill' ? `${shown.methodLabel}, student ${shown.preset}` : shown.preset;
  return (
    <div className="resume-offer" role="region" aria-label={`Saved ${name} run`} data-testid="resume-offer">
      <p>
        <strong>A {name} run is saved in this browser</strong>: {what} on {shown.datasetName}, {at}
        {shown.testAccuracy !== null && <>, test accuracy {formatPercent(shown.testAccuracy)}</>} (saved{' '}
        {new Date(shown.savedAt).toLocaleString()}).
      </p>
      <button
        type="button"
        data-testid="resume-offer-resume"
        disabled={busy}
        onClick={() => void (lane === 'distill' ? resumeSavedDistillation() : resumeSavedRun(lane))}
      >
        Resume
      </button>
      <button
        type="button"
        data-testid="resume-offer-discard"
        onClick={() => void (lane === 'distill' ? discardSavedDistillation() : discardSavedRun(lane))}
      >
        Discard
      </button>
    </div>
  );
}
