/**
 * The trust panel: out-of-distribution detection and calibration of the teacher and every student of the
 * visit (docs/design.md, "Out-of-distribution and calibration"). Pick models and OoD sets (MNIST, seeded noise,
 * uploads), Run in the Worker with progress and Cancel, then read the table, the histograms, the ROC curves,
 * the reliability diagram and the fidelity numbers. Reads the OoD store only.
 */
import { useEffect } from 'react';
import { useDatasetStore } from '../store/stores';
import { useDistillStore } from '../store/distillStores';
import {
  cancelOod,
  refreshOodChoices,
  runOod,
  showOod,
  toggleOodModel,
  toggleOodSet,
  uploadOodFiles,
  useOodStore,
} from '../store/oodStore';
import { rowOf } from '../store/oodView';
import { useTeacherStore, useTrainingStore } from '../store/trainingStores';
import type { OodResult, OodScore } from '../worker/protocol';
import { ReliabilityDiagram, RocCurves, ScoreHistogram } from './OodCharts';
import { OodMetricsTable, OodModelTable } from './OodTables';

/** Asks the Worker for the model list again whenever a model may have come, gone or trained on. */
function useModelRefresh(): void {
  const teacher = useTeacherStore((s) => s.info);
  const dataset = useDatasetStore((s) => s.summary);
  const distill = useDistillStore((s) => s.runs.map((r) => `${r.id}:${r.status}`).join(','));
  const student = useTrainingStore((s) => s.student.status);
  useEffect(() => {
    void refreshOodChoices();
  }, [teacher, dataset, distill, student]);
}

function Choices() {
  const { models, sets, chosenModels, chosenSets, running, uploading, uploadError } = useOodStore();
  const pick = (files: FileList | null) => void uploadOodFiles(files ? Array.from(files) : []);
  return (
    <div className="ood-choices">
      <fieldset data-testid="ood-models">
        <legend>Models</legend>
        {models.length === 0 && <p className="hint">No model yet: load or train a teacher.</p>}
        {models.map((m) => (
          <label key={m.key}>
            <input
              type="checkbox"
              checked={chosenModels.includes(m.key)}
              disabled={running}
              onChange={() => toggleOodModel(m.key)}
              data-testid={`ood-model-${m.role}`}
            />
            {m.label}
          </label>
        ))}
      </fieldset>
      <fieldset data-testid="ood-sets">
        <legend>Out-of-distribution sets</legend>
        {sets.map((s) => (
          <label key={s.id}>
            <input
              type="checkbox"
              checked={chosenSets.includes(s.id)}
              disabled={running}
              onChange={() => toggleOodSet(s.id)}
              data-testid={`ood-set-${s.id}`}
            />
            {s.name} ({s.count.toLocaleString('en-US')})
          </label>
        ))}
        <div className="ood-upload">
          <label>
            Add a set: CIFAR-binary .bin, a .zip of PNG/JPEG, or images{' '}
            <input
              type="file"
              multiple
              accept=".bin,.zip,.png,.jpg,.jpeg"
              disabled={running || uploading}
              data-testid="ood-upload"
              onChange={(e) => {
                pick(e.target.files);
                e.target.value = '';
              }}
            />
          </label>
          <label>
            or a folder of images{' '}
            <input
              type="file"
              ref={(el) => el?.setAttribute('webkitdirectory', '')}
              disabled={running || uploading}
              data-testid="ood-upload-folder"
              onChange={(e) => {
                pick(e.target.files);
                e.target.value = '';
              }}
            />
          </label>
          {uploading && <p className="hint">Reading the files in the Worker…</p>}
          {uploadError && (
            <p className="param-error" role="alert" data-testid="ood-upload-error">
              {uploadError}
            </p>
          )}
        </div>
      </fieldset>
    </div>
  );
}

function RunBar() {
  const { running, progress, chosenModels, chosenSets } = useOodStore();
  const blocker = !chosenModels.length
    ? 'Choose a model.'
    : !chosenSets.length
      ? 'Choose an out-of-distribution set.'
      : null;
  return (
    <div className="ood-run">
      <button
        type="button"
        data-testid="ood-run"
        disabled={running || blocker !== null}
        onClick={() => void runOod()}
      >
        Run
      </button>
      <button type="button" data-testid="ood-cancel" disabled={!running} onClick={() => void cancelOod()}>
        Cancel
      </button>
      {blocker && <span className="hint">{blocker}</span>}
      {running && (
        <div className="run-progress" data-testid="ood-progress">
          <progress
            max={progress?.total || 1}
            value={progress?.done ?? 0}
            aria-label="OoD analysis progress"
          />
          <p>
            {progress
              ? `${progress.stage}: ${progress.done.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')} images`
              : 'starting…'}
          </p>
        </div>
      )}
    </div>
  );
}

function Views({ result }: { result: OodResult }) {
  const { shownModel, shownSet, shownScore } = useOodStore();
  const model = result.models.find((m) => m.key === shownModel) ?? result.models[0]!;
  const set = result.sets.find((s) => s.id === shownSet) ?? result.sets[0]!;
  const row = rowOf(result, model.key, set.id, shownScore);
  return (
    <div className="ood-views">
      <p className="hint" data-testid="ood-summary">
        {result.datasetName}: {result.testCount.toLocaleString('en-US')} test images, scored in{' '}
        {result.seconds.toFixed(1)} s (outputs already computed for a model and set are reused). Anchors for
        u(x) of {model.label}: {model.anchors}.
      </p>
      <div className="ood-view-choice">
        <label>
          Model{' '}
          <select value={model.key} onChange={(e) => showOod({ shownModel: e.target.value })}>
            {result.models.map((m) => (
              <option key={m.key} value={m.key}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          OoD set{' '}
          <select value={set.id} onChange={(e) => showOod({ shownSet: e.target.value })}>
            {result.sets.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Score{' '}
          <select value={shownScore} onChange={(e) => showOod({ shownScore: e.target.value as OodScore })}>
            {result.scores.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="charts">
        {row && <ScoreHistogram row={row} setName={set.name} />}
        <RocCurves result={result} model={model.key} set={set.id} />
      </div>
      <OodMetricsTable result={result} />
      <div className="charts">
        <ReliabilityDiagram model={model} />
      </div>
      <OodModelTable result={result} />
    </div>
  );
}

export function OodPanel() {
  useModelRefresh();
  const result = useOodStore((s) => s.result);
  return (
    <section className="panel ood-panel" data-testid="ood-panel" aria-labelledby="ood-title">
      <h2 id="ood-title">Out-of-distribution and calibration</h2>
      <p className="hint">
        Does a model know when an image is unlike anything it learned? Each score is higher for less certain
        images: MSP, softmax entropy, energy, and AKD&apos;s anchor uncertainty u(x) = 1 - max over anchors of
        the kernel similarity of features. The test split of the active dataset is in-distribution; a good
        score separates it from the OoD set (AUROC 1). Misclassification detection asks the same about the
        model&apos;s own wrong predictions.
      </p>
      <Choices />
      <RunBar />
      {result && <Views result={result} />}
    </section>
  );
}
