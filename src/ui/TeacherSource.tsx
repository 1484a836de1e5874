import { distillActive, useDistillStore } from '../store/distillStores';
import { useDatasetStore } from '../store/stores';
import {
  cancelTeacherMeasurement,
  importTeacher,
  loadShippedTeacher,
  measureTeacher,
} from '../store/teacherActions';
import { useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { hasLiveRun, isActive } from '../store/trainingState';
import type { TeacherInfo } from '../worker/protocol';
import { formatPercent } from './format';

const SOURCE_TEXT = { shipped: 'Shipped teacher', imported: 'Imported teacher', trained: 'Trained here' };
const ACCURACY_SOURCE_TEXT = {
  stored: 'stored with the model',
  measured: 'measured in this browser',
  training: 'after the last epoch',
};

/** The teacher the lab distils from: where it came from, its test accuracy, and other ways to get one. */
export function TeacherSource() {
  const { shipped, loading: busy, measuring, measurementCancelled, info } = useTeacherStore();
  const dataset = useDatasetStore((s) => s.summary);
  const run = useTrainingStore((s) => s.teacher);
  const trainedHere = run.status !== 'idle' && run.config !== null;
  const lastEpoch = run.epochs[run.epochs.length - 1];
  // A distillation reads the current teacher: it may not change under a running one.
  const distilling = useDistillStore(distillActive);
  const training = isActive(run.status) || distilling;

  let current: {
    source: string;
    preset: string;
    accuracy: number | null;
    on: string | null;
    from: TeacherInfo['accuracySource'];
  } | null = null;
  if (trainedHere) {
    current = {
      source: SOURCE_TEXT.trained,
      preset: run.config!.model,
      accuracy: lastEpoch?.testAccuracy ?? null,
      on: run.datasetName,
      from: 'training',
    };
  } else if (info) {
    current = {
      source: SOURCE_TEXT[info.source],
      preset: info.preset,
      accuracy: info.testAccuracy,
      on: dataset && dataset.id === info.datasetId ? dataset.name : null,
      from: info.accuracySource,
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
            data-source={current.from ?? ''}
            aria-busy={measuring && current.accuracy === null}
          >
            {current.accuracy !== null
              ? formatPercent(current.accuracy)
              : busy || measuring
                ? 'measuring…'
                : trainedHere
                  ? 'after the first epoch'
                  : 'not measured'}
          </strong>
          {current.on && <span className="hint"> on the test split of {current.on}</span>}
          {current.accuracy !== null && current.from && (
            <span className="hint" data-testid="teacher-accuracy-source">
              {' '}
              ({ACCURACY_SOURCE_TEXT[current.from]})
            </span>
          )}
          {!trainedHere && measuring && (
            <span className="measure-status" data-testid="teacher-measuring">
              {' '}
              · {current.accuracy !== null ? 'checking it on this browser…' : ''}
              <button
                type="button"
                className="link-button"
                data-testid="teacher-measure-cancel"
                onClick={() => void cancelTeacherMeasurement()}
              >
                Cancel
              </button>
            </span>
          )}
          {!trainedHere && !measuring && !busy && (measurementCancelled || current.accuracy === null) && (
            <span className="measure-status">
              {' '}
              {measurementCancelled && '· measurement cancelled '}
              <button
                type="button"
                className="link-button"
                data-testid="teacher-measure"
                disabled={training}
                onClick={() => void measureTeacher()}
              >
                Measure now
              </button>
            </span>
          )}
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
