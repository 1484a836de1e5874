import { BACKEND_NAMES, type BackendName } from '../engine/config/backends';
import { chooseBackendAction } from '../store/actions';
import { useBackendStore } from '../store/stores';
import { activeRole, useTrainingStore } from '../store/trainingStores';
import type { BackendReport } from '../worker/protocol';

function kindOf(report: BackendReport): string {
  if (report.backend === 'wasm' || report.backend === 'cpu') return 'runs on the CPU';
  return report.software ? 'software fallback adapter' : 'hardware GPU';
}

/** The active tfjs backend, its adapter, whether that adapter is software, and a way to override the choice. */
export function BackendBadge() {
  const { status, requested, report } = useBackendStore();
  // The engine refuses a switch mid-run: the run's tensors live on the backend it started on.
  const training = useTrainingStore(activeRole);
  const onChange = (value: string) =>
    void chooseBackendAction(value === 'auto' ? undefined : (value as BackendName));
  return (
    <section
      className="backend-badge"
      data-testid="backend-badge"
      data-backend={report?.backend ?? ''}
      data-status={status}
      data-training-loops={report?.trainingLoops ?? ''}
      data-loop-threads={report?.loopThreads ?? ''}
    >
      <div className="backend-main">
        <span className="backend-name">
          {status === 'starting' ? 'starting…' : (report?.backend ?? 'none')}
        </span>
        {report && (
          <span
            className="backend-adapter"
            data-testid="backend-adapter"
            title={
              report.loopThreads == null
                ? undefined
                : `the lab's own training loops run on ${report.loopThreads} thread${report.loopThreads === 1 ? '' : 's'}`
            }
          >
            {report.adapter}
          </span>
        )}
        {report && (
          <span
            className={report.software ? 'tag tag-warn' : 'tag'}
            data-testid="backend-software"
            data-software={String(report.software)}
          >
            {kindOf(report)}
          </span>
        )}
      </div>
      {report && (
        <div className="backend-reason">
          {report.fallback ? (
            <span className="fallback" data-testid="backend-fallback">
              {report.fallback.requested} unavailable ({report.fallback.why}); using {report.backend}:{' '}
              {report.reason}
            </span>
          ) : (
            <span>{report.reason}</span>
          )}
        </div>
      )}
      {report && (
        <details className="backend-probes">
          <summary>What this browser offers</summary>
          <ul>
            {BACKEND_NAMES.map((name) => {
              const probe = report.probes[name];
              return (
                <li key={name} data-testid={`probe-${name}`}>
                  <code>{name}</code>:{' '}
                  {probe.available ? probe.description : `unavailable: ${probe.description}`}
                  {probe.available && probe.software ? ' (software fallback)' : ''}
                </li>
              );
            })}
          </ul>
        </details>
      )}
      <label className="backend-select">
        Backend{' '}
        <select
          data-testid="backend-select"
          value={requested ?? 'auto'}
          disabled={status === 'starting' || training !== null}
          title={training ? `Pause the ${training} to change the backend` : undefined}
          onChange={(e) => onChange(e.target.value)}
        >
          <option value="auto">auto</option>
          {BACKEND_NAMES.map((name) => (
            <option key={name} value={name}>
              {name}
              {report && !report.probes[name].available ? ' (unavailable)' : ''}
            </option>
          ))}
        </select>
      </label>
    </section>
  );
}
