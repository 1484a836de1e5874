import { PREPARED_SET_IDS, PREPARED_SETS } from '../engine/config/datasets';
import { choosePreparedSet } from '../store/actions';
import { useDatasetStore } from '../store/stores';
import { DatasetSummaryView } from './DatasetSummaryView';
import { SampleGrid } from './SampleGrid';
import { UploadZone } from './UploadZone';

export function DatasetPanel() {
  const { status, source, summary } = useDatasetStore();
  const busy = status === 'loading';
  return (
    <section className="panel dataset-panel" aria-labelledby="dataset-title" data-status={status}>
      <h2 id="dataset-title">Dataset</h2>
      <fieldset className="set-choice" disabled={busy}>
        {PREPARED_SET_IDS.map((id) => (
          <label key={id}>
            <input
              type="radio"
              name="dataset"
              value={id}
              data-testid={`set-${id}`}
              checked={source === id}
              onChange={() => void choosePreparedSet(id)}
            />
            {PREPARED_SETS[id].name}
          </label>
        ))}
        {source === 'upload' && (
          <label>
            <input type="radio" name="dataset" checked readOnly /> your upload
          </label>
        )}
      </fieldset>
      <UploadZone busy={busy} />
      {busy && (
        <p className="loading" data-testid="dataset-loading">
          Loading…
        </p>
      )}
      {summary && (
        <div className="dataset-body">
          <DatasetSummaryView summary={summary} />
          <SampleGrid />
        </div>
      )}
    </section>
  );
}
