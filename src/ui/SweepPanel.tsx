/**
 * The T x alpha sweep (issue 12): short distillations over a temperature x alpha grid from the current teacher,
 * plus the CE baseline, run one after another in the Worker and drawn as a heatmap of test accuracy as cells
 * finish; the baseline is marked, the best cell named; Cancel keeps the finished cells and Resume runs the rest.
 * The student and its settings are the Distillation panel's. Reads the sweep store only (src/store/sweepStore.ts).
 */
import { SWEEP_BASELINE, SWEEP_METHOD } from '../engine/config/sweep';
import { useDistillStore } from '../store/distillStores';
import { cancelSweep, editSweep, runSweep, useSweepStore } from '../store/sweepStore';
import { type HeatCell, heatmapView, WAITING_COLOUR } from '../store/sweepView';
import { useCurrentTeacher } from './DistillTeacherLine';
import { formatPercent } from './format';
import './sweep.css';

const points = (p: number) => `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)}`;

function Cell({ cell, running }: { cell: HeatCell; running: { step: number; steps: number } | null }) {
  return (
    <td
      className={`sweep-cell${cell.best ? ' sweep-best-cell' : ''}`}
      style={{ background: cell.colour }}
      data-testid="sweep-cell"
      data-t={cell.temperature}
      data-alpha={cell.alpha}
      data-status={cell.status}
      data-accuracy={cell.testAccuracy ?? ''}
      title={`T = ${cell.temperature}, alpha = ${cell.alpha}`}
    >
      {cell.testAccuracy !== null ? (
        <>
          <span className="sweep-acc">{formatPercent(cell.testAccuracy)}</span>
          {cell.points !== null && <span className="sweep-points">{points(cell.points)}</span>}
        </>
      ) : cell.status === 'running' && running ? (
        <span className="sweep-running">
          step {running.step} / {running.steps}
        </span>
      ) : (
        <span className="sweep-waiting">…</span>
      )}
    </td>
  );
}

export function SweepPanel() {
  const s = useSweepStore();
  const methods = useDistillStore((d) => d.methods);
  const student = useDistillStore((d) => d.form.model);
  const teacher = useCurrentTeacher();
  const method = methods?.find((m) => m.id === SWEEP_METHOD);
  const view = heatmapView(s.grid.temperatures, s.grid.alphas, s.results, s.running?.key ?? null);
  const busy = s.status === 'running' || s.status === 'cancelling';
  const blocker = !teacher
    ? 'No teacher to distil from (load or import one above).'
    : !method
      ? 'Loading…'
      : null;
  // Resume runs the typed grid's cells without a kept result (after Cancel, or a grid extended since).
  const canResume = !busy && blocker === null && Object.keys(s.results).length > 0;
  const baselineRunning = s.running?.key === SWEEP_BASELINE ? s.running : null;
  return (
    <section className="panel sweep-panel" data-testid="sweep-panel" aria-labelledby="sweep-title">
      <h2 id="sweep-title">Temperature x alpha sweep</h2>
      <p className="hint">
        Short {method?.label ?? SWEEP_METHOD} runs of the Distillation panel&apos;s student ({student || '—'},
        its settings and seed) from the current teacher, one per cell, each scored on the test split; the CE
        baseline trains the same steps on labels alone. Colour: points against the baseline (green above, red
        below).
      </p>
      <div className="sweep-form">
        <label>
          Temperatures T
          <input
            value={s.temperaturesText}
            onChange={(e) => editSweep({ temperaturesText: e.target.value })}
            disabled={busy}
            data-testid="sweep-temperatures"
          />
        </label>
        <label>
          Alphas
          <input
            value={s.alphasText}
            onChange={(e) => editSweep({ alphasText: e.target.value })}
            disabled={busy}
            data-testid="sweep-alphas"
          />
        </label>
        <label>
          Steps per cell
          <input
            value={s.stepsText}
            inputMode="numeric"
            onChange={(e) => editSweep({ stepsText: e.target.value })}
            disabled={busy}
            data-testid="sweep-steps"
          />
        </label>
      </div>
      <div className="run-controls">
        <button
          type="button"
          onClick={() => void runSweep(true)}
          disabled={busy || blocker !== null}
          data-testid="sweep-start"
        >
          Run sweep
        </button>
        <button
          type="button"
          onClick={() => void runSweep(false)}
          disabled={!canResume}
          data-testid="sweep-resume"
        >
          Resume
        </button>
        <button
          type="button"
          onClick={() => void cancelSweep()}
          disabled={s.status !== 'running'}
          data-testid="sweep-cancel"
        >
          Cancel
        </button>
        <span className="hint" data-testid="sweep-status" data-status={s.status} data-done={view.done}>
          {blocker ??
            `${view.done} of ${view.total} runs done${s.status === 'cancelled' ? ' (cancelled)' : ''}`}
        </span>
      </div>
      {s.error && (
        <p className="config-error" role="alert" data-testid="sweep-error">
          {s.error}
        </p>
      )}
      <p
        className="sweep-baseline"
        data-testid="sweep-baseline"
        data-accuracy={view.baseline.testAccuracy ?? ''}
      >
        <span
          className="sweep-swatch"
          style={{ background: view.baseline.testAccuracy === null ? WAITING_COLOUR : 'white' }}
        />
        CE baseline:{' '}
        {view.baseline.testAccuracy !== null
          ? formatPercent(view.baseline.testAccuracy)
          : baselineRunning
            ? `step ${baselineRunning.step} / ${baselineRunning.steps}`
            : '—'}
      </p>
      <div className="runs-table-wrap">
        <table className="sweep-heatmap" data-testid="sweep-heatmap">
          <thead>
            <tr>
              <th scope="col">T \ alpha</th>
              {view.alphas.map((a) => (
                <th scope="col" key={a}>
                  {a}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {view.rows.map((row, i) => (
              <tr key={view.temperatures[i]}>
                <th scope="row">{view.temperatures[i]}</th>
                {row.map((cell) => (
                  <Cell key={cell.key} cell={cell} running={s.running?.key === cell.key ? s.running : null} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {view.best && view.best.testAccuracy !== null && (
        <p data-testid="sweep-best" data-t={view.best.temperature} data-alpha={view.best.alpha}>
          {s.status === 'done' ? 'Best cell' : 'Best cell so far'}: T = {view.best.temperature}, alpha ={' '}
          {view.best.alpha}, {formatPercent(view.best.testAccuracy)}
          {view.best.points !== null && ` (${points(view.best.points)} points against CE)`}. One seed and a
          short budget: a point or two is within what another seed moves.
        </p>
      )}
    </section>
  );
}
