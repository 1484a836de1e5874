import { distillActive, useDistillStore } from '../store/distillStores';
import { useDatasetStore } from '../store/stores';
import { importTeacher, loadShippedTeacher } from '../store/trainingActions';
import { useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { hasLiveRun, isActive } from '../store/trainingState';
import { formatPercent } from './format';

const SOURCE_TEXT = { shipped: 'Shipped teacher', imported: 'Imported teacher', trained: 'Trained here' };

/** The teacher the lab distils from: where it came from, its test accuracy, and other ways to get one. */
export function TeacherSource() {
  const { shipped, busy, info } = useTeacherStore();
  const dataset = useDatasetStore((s) => s.summary);
  const run = useTrainingStore((s) => s.teacher);
  const trainedHere = run.status !== 'idle' && run.config !== null;
  const lastEpoch = run.epochs[run.epochs.length - 1];
  // A distillation reads the current teacher: it may not change under a running one.
  const distilling = useDistillStore(distillActive);
  const training = isActive(run.status) || distilling;

  let current: { source: string; preset: string; accuracy: number | null; on: string | null } | null = null;
  if (trainedHere) {
    current = {
      source: SOURCE_TEXT.trained,
      preset: run.config!.model,
      accuracy: lastEpoch?.testAccuracy ?? null,
      on: run.datasetName,
    };
  } else if (info) {
    current = {
      source: SOURCE_TEXT[info.source],
      preset: info.preset,
      accuracy: info.testAccuracy,
      on: dataset && dataset.id === info.datasetId ? dataset.name : null,
    };
  }

  return (
    <div className="teacher-source" data-testid="teacher-source" data-shipped={shipped}>
      {current ? (
        <p>
          <strong>{current.source}</strong>: {current.preset} · test accuracy{' '}
          <strong
            data-testid="teacher-accuracy"
            data-accuracy={current.accuracy ?? ''}
            aria-busy={busy && current.accuracy === null}
          >
            {current.accuracy !== null
              ? formatPercent(current.accuracy)
              : busy
                ? 'measuring…'
                : 'after the first epoch'}
          </strong>
          {current.on && <span className="hint"> on the test split of {current.on}</span>}
        </p>
      ) : (
        <p>{busy || shipped === 'unknown' ? 'Looking for the shipped teacher…' : 'No teacher yet.'}</p>
      )}
      {shipped === 'missing' && (
        <p className="notice" data-testid="teacher-missing">
          No shipped teacher found: this build serves no <code>teacher/model.json</code>. Train a teacher
          below, or import one.
        </p>
      )}
      <div className="teacher-actions">
        <label className={`file-button${busy || training ? ' disabled' : ''}`} data-testid="teacher-import">
          <input
            type="file"
            multiple
            accept=".json,.bin"
            disabled={busy || training}
            onChange={(e) => {
              if (e.target.files?.length) void importTeacher(Array.from(e.target.files));
              e.target.value = '';
            }}
          />
          Import a teacher (model.json and its weights .bin, chosen together)
        </label>
        {shipped === 'available' && info?.source !== 'shipped' && (
          <button
            type="button"
            data-testid="teacher-use-shipped"
            disabled={busy || hasLiveRun(run.status) || distilling}
            onClick={() => void loadShippedTeacher()}
          >
            Use the shipped teacher
          </button>
        )}
      </div>
    </div>
  );
}
