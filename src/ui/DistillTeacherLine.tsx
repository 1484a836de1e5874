/** The Distillation panel's line naming the teacher a new run distils from (or why there is none yet). */
import { formatPercent } from './format';
import { useTeacherStore, useTrainingStore } from '../store/trainingStores';

const SOURCE_TEXT = {
  shipped: 'the shipped teacher',
  imported: 'the imported teacher',
  trained: 'the teacher trained here',
};

/** The teacher a new run distils from, as the Teacher panel shows it; null when there is none. */
export function useCurrentTeacher(): { text: string; accuracy: number | null } | null {
  const info = useTeacherStore((s) => s.info);
  const run = useTrainingStore((s) => s.teacher);
  if (run.config && run.status !== 'idle' && run.status !== 'failed') {
    return {
      text: `${SOURCE_TEXT.trained} (${run.config.model})`,
      accuracy: run.epochs.at(-1)?.testAccuracy ?? null,
    };
  }
  if (info) return { text: `${SOURCE_TEXT[info.source]} (${info.preset})`, accuracy: info.testAccuracy };
  return null;
}

export function DistillTeacherLine() {
  const teacher = useCurrentTeacher();
  const busy = useTeacherStore((s) => s.loading);
  return (
    <div className="distill-teacher" data-testid="distill-teacher" data-has-teacher={teacher !== null}>
      {teacher ? (
        <p>
          Distils from <strong>{teacher.text}</strong>
          {teacher.accuracy !== null && <>, test accuracy {formatPercent(teacher.accuracy)}</>}. Change it in
          the Teacher panel.
        </p>
      ) : (
        <p className="notice" data-testid="distill-no-teacher">
          {busy
            ? 'The teacher is loading…'
            : 'No teacher yet: load the shipped one, import one, or train one in the Teacher panel. Start waits for one; the baseline needs none.'}
        </p>
      )}
    </div>
  );
}
