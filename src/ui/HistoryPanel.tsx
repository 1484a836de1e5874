import { useEffect, useState } from 'react';
import {
  chooseMethodFilter,
  deleteRuns,
  exportSelected,
  importRunsFile,
  loadHistory,
  renameRun,
  toggleSelected,
  useHistoryStore,
} from '../store/history/historyStore';
import { finalAccuracy, type HistoryRun } from '../store/history/runRecord';
import { formatPercent } from './format';
import { HistoryOverlay } from './HistoryOverlay';
import './history.css';

/**
 * Every run of every visit (docs/design.md, section 8, "Run history"): a table to rename, delete, filter by method and
 * choose runs for the overlay and the exports; an import for a run's JSON. Reads the history store only.
 */
export function HistoryPanel() {
  const { status, runs, methodFilter, selected, importError } = useHistoryStore();
  useEffect(() => {
    void loadHistory();
  }, []);
  const methods = [...new Set(runs.map((r) => r.method))].sort();
  const shown = runs.filter((r) => methodFilter === null || r.method === methodFilter).reverse();
  return (
    <section className="panel" data-testid="panel-history" data-status={status} data-runs={runs.length}>
      <h2>Run history</h2>
      <p className="hint">
        Every run that ends (done, stopped, or halted by a non-finite loss) is kept in this browser, with its
        settings, curves and results. Choose runs to overlay their curves or to export them.
      </p>
      <div className="history-tools">
        <label>
          Method{' '}
          <select
            data-testid="history-filter"
            value={methodFilter ?? ''}
            onChange={(e) => chooseMethodFilter(e.target.value || null)}
          >
            <option value="">all ({runs.length})</option>
            {methods.map((m) => (
              <option key={m} value={m}>
                {m} ({runs.filter((r) => r.method === m).length})
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          data-testid="history-export-json"
          disabled={!selected.length}
          onClick={() => exportSelected('json')}
        >
          Export JSON ({selected.length})
        </button>
        <button
          type="button"
          data-testid="history-export-csv"
          disabled={!selected.length}
          onClick={() => exportSelected('csv')}
        >
          Export CSV ({selected.length})
        </button>
        <button
          type="button"
          data-testid="history-delete-selected"
          disabled={!selected.length}
          onClick={() => void deleteRuns(selected)}
        >
          Delete chosen
        </button>
        <label className="file-button" data-testid="history-import">
          Import JSON…
          <input
            type="file"
            accept=".json,application/json"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void importRunsFile(file);
            }}
          />
        </label>
      </div>
      {importError && (
        <p className="param-error" role="alert" data-testid="history-import-error">
          {importError}
        </p>
      )}
      {status === 'loading' ? (
        <p className="hint">Reading the saved runs…</p>
      ) : runs.length === 0 ? (
        <p className="hint" data-testid="history-empty">
          {status === 'unavailable'
            ? 'This browser does not let the lab keep runs (see the message above).'
            : 'No run has ended yet.'}
        </p>
      ) : (
        <div className="runs-table-wrap">
          <table className="runs-table" data-testid="history-table">
            <thead>
              <tr>
                <th>Overlay</th>
                <th>Name</th>
                <th>Method</th>
                <th>Student and settings</th>
                <th>Labels</th>
                <th>Teacher</th>
                <th>Dataset · backend</th>
                <th>Outcome</th>
                <th>Test top-1</th>
                <th>ms/step</th>
                <th>ECE · OoD AUROC</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {shown.map((run) => (
                <HistoryRow key={run.id} run={run} chosen={selected.indexOf(run.id)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <HistoryOverlay />
    </section>
  );
}

const paramsText = (params: Readonly<Record<string, number>>) =>
  Object.entries(params)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const settingsText = (run: HistoryRun) => {
  const c = run.config;
  return `${c.model} · ${c.epochs} ep · batch ${c.batchSize} · ${c.optimizer} ${c.learningRate} ${c.schedule} · seed ${c.seed}`;
};

const oodText = (run: HistoryRun) => {
  if (!run.ood) return '—';
  const sets = [...new Set(run.ood.aurocs.map((a) => a.set))].map(
    (set) =>
      `${set}: ${run
        .ood!.aurocs.filter((a) => a.set === set)
        .map((a) => `${a.score} ${a.auroc.toFixed(3)}`)
        .join(', ')}`,
  );
  return [`ECE ${run.ood.ece.toFixed(3)}`, ...sets].join(' · ');
};

function HistoryRow({ run, chosen }: { run: HistoryRun; chosen: number }) {
  const [editing, setEditing] = useState<string | null>(null);
  const accuracy = finalAccuracy(run);
  const save = () => {
    if (editing !== null) void renameRun(run.id, editing);
    setEditing(null);
  };
  return (
    <tr data-testid="history-run" data-run-id={run.id} data-method={run.method} data-outcome={run.outcome}>
      <td>
        <input
          type="checkbox"
          data-testid="history-select"
          aria-label={`Overlay ${run.name}`}
          checked={chosen >= 0}
          onChange={() => toggleSelected(run.id)}
        />
      </td>
      <td>
        {editing === null ? (
          <>
            <span data-testid="history-name">{run.name}</span>{' '}
            <button
              type="button"
              className="link-button"
              data-testid="history-rename"
              onClick={() => setEditing(run.name)}
            >
              rename
            </button>
          </>
        ) : (
          <input
            type="text"
            data-testid="history-name-input"
            aria-label="New name"
            value={editing}
            autoFocus
            onChange={(e) => setEditing(e.target.value)}
            onBlur={save}
            onKeyDown={(e) => {
              if (e.key === 'Enter') save();
              if (e.key === 'Escape') setEditing(null);
            }}
          />
        )}
        <div className="hint">{new Date(run.createdAt).toLocaleString()}</div>
      </td>
      <td title={run.methodLabel}>
        {run.method}
        {run.panel !== 'distillation' && <span className="hint"> ({run.panel} panel)</span>}
        <div className="hint">{paramsText(run.params)}</div>
      </td>
      <td className="hint">{settingsText(run)}</td>
      <td>{formatPercent(run.labelledFraction)}</td>
      <td className="hint">{run.teacher ? `${run.teacher.preset} (${run.teacher.source})` : '—'}</td>
      <td className="hint">
        {run.dataset.name} · {run.backend ?? '?'}
      </td>
      <td title={run.message ?? undefined}>{run.outcome}</td>
      <td data-testid="history-accuracy" data-value={accuracy ?? ''}>
        {accuracy === null ? '—' : formatPercent(accuracy)}
      </td>
      <td>{run.msPerStep === null ? '—' : run.msPerStep.toFixed(0)}</td>
      <td className="hint" data-testid="history-ood">
        {oodText(run)}
      </td>
      <td>
        <button
          type="button"
          className="link-button"
          data-testid="history-delete"
          onClick={() => void deleteRuns([run.id])}
        >
          delete
        </button>
      </td>
    </tr>
  );
}
