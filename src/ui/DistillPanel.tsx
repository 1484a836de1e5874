import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { EPOCH_AXIS, percentAxis } from './chartAxes';
import { formatCount } from '../engine/config/format';
import {
  chooseLabelledFraction,
  chooseMethod,
  editDistillForm,
  editDistillParam,
  pauseDistill,
  resetDistillParams,
  resumeDistill,
  showRun,
  startDistill,
  stopDistill,
} from '../store/distillActions';
import {
  checkParams,
  defaultText,
  LABELLED_CHOICES,
  labelledText,
  paramsText,
  rangeText,
} from '../store/distillForm';
import {
  accuracyOverlay,
  baselineFor,
  type DistillRunRecord,
  finalTestAccuracy,
  isBaseline,
  liveRun,
  runKey,
} from '../store/distillState';
import { useDistillStore } from '../store/distillStores';
import { useDatasetStore } from '../store/stores';
import { activeRole, useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { checkForm } from '../store/trainForm';
import type { DistillMethodInfo, TrainConfig } from '../worker/protocol';
import { formatPercent } from './format';
import { ResumeOffer } from './ResumeOffer';
import { RunButtons, useLabBlocker } from './RunControls';
import { RunProgressView } from './RunProgress';
import { CHART_HEIGHT, fixed, LossChartView } from './TrainingCharts';
import { TrainFormFields } from './TrainFormView';

const SOURCE_TEXT = {
  shipped: 'the shipped teacher',
  imported: 'the imported teacher',
  trained: 'the teacher trained here',
};

/** The teacher a new run distils from, as the Teacher panel shows it; null when there is none. */
function useCurrentTeacher(): { text: string; accuracy: number | null } | null {
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

function DistillTeacher() {
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

/** Why Start (the method, or the baseline) is off, or null. */
function useDistillBlocker(
  kind: 'method' | 'baseline',
  method: DistillMethodInfo | undefined,
): string | null {
  const state = useDistillStore();
  const lab = useLabBlocker();
  const other = useTrainingStore(activeRole);
  const teacherBusy = useTeacherStore((s) => s.loading);
  const teacher = useCurrentTeacher();
  if (lab) return lab;
  if (!state.methods) return 'The methods are loading…';
  if (other) return `The ${other} is training; pause it to distil.`;
  if (checkForm(state.form, 'student').error) return 'Fix the student settings to start.';
  if (kind === 'baseline') return null;
  if (!method) return 'Choose a method.';
  if (method.needsTeacher) {
    if (teacherBusy) return 'The teacher is loading…';
    if (!teacher) return 'No teacher to distil from (see above).';
  }
  if (!checkParams(method, state.paramTexts[method.id] ?? {}).values) return 'Fix the parameters to start.';
  return null;
}

function MethodParams({ method, locked }: { method: DistillMethodInfo; locked: boolean }) {
  const texts = useDistillStore((s) => s.paramTexts[method.id]) ?? {};
  const { errors } = checkParams(method, texts);
  if (!method.params.length) return <p className="hint wide">{method.id} has no parameters.</p>;
  return (
    <>
      {method.params.map((param) => {
        const error = errors[param.name];
        const errorId = `distill-param-error-${param.name}`;
        return (
          <label key={param.name} className="wide method-param">
            <span>
              {param.label} <code>{param.name}</code> <span className="hint">({rangeText(param)})</span>
            </span>
            <input
              type="text"
              inputMode="decimal"
              spellCheck={false}
              data-testid={`distill-param-${param.name}`}
              value={texts[param.name] ?? defaultText(param)}
              disabled={locked}
              aria-invalid={error !== undefined}
              aria-describedby={error ? errorId : undefined}
              onChange={(e) => editDistillParam(param.name, e.target.value)}
            />
            <span className="hint">{param.help}</span>
            {error && (
              <span className="param-error" role="alert" id={errorId} data-testid={errorId}>
                {error}
              </span>
            )}
          </label>
        );
      })}
      <button type="button" className="wide" disabled={locked} onClick={resetDistillParams}>
        Reset the parameters to their defaults
      </button>
    </>
  );
}

function MethodForm({ locked }: { locked: boolean }) {
  const methods = useDistillStore((s) => s.methods);
  const methodId = useDistillStore((s) => s.methodId);
  const labelledFraction = useDistillStore((s) => s.labelledFraction);
  const method = methods?.find((m) => m.id === methodId);
  return (
    <form className="train-form method-form" onSubmit={(e) => e.preventDefault()}>
      <fieldset disabled={locked}>
        <label className="wide">
          Method
          <select
            data-testid="distill-method"
            value={methodId}
            disabled={!methods}
            onChange={(e) => chooseMethod(e.target.value)}
          >
            {!methods && <option value={methodId}>loading…</option>}
            {methods?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label} ({m.id})
              </option>
            ))}
          </select>
        </label>
        {method && (
          <p className="wide method-summary" data-testid="distill-method-summary">
            {method.summary}
            <br />
            <span className="hint">Defaults: {method.defaultsFrom}.</span>
          </p>
        )}
        {method && <MethodParams method={method} locked={locked} />}
        <label className="wide">
          Labelled fraction
          <select
            data-testid="distill-labelled"
            value={String(labelledFraction)}
            onChange={(e) => chooseLabelledFraction(Number(e.target.value))}
          >
            {LABELLED_CHOICES.map((f) => (
              <option key={f} value={String(f)}>
                {labelledText(f)}
                {f === 1
                  ? ' (every label)'
                  : f === 0
                    ? ' (no labels: the teacher alone)'
                    : ' of the labels, class-balanced'}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
    </form>
  );
}

const settingsText = (config: TrainConfig) =>
  `${config.model} · ${config.epochs} ep · batch ${config.batchSize} · ${config.optimizer} ${config.learningRate} ${config.schedule} · seed ${config.seed}`;

const RUN_COLOURS = ['#2d6cdf', '#c0392b', '#1f9d55', '#7a3fb8', '#d9822b', '#16a2b8', '#8a6d3b', '#e83e8c'];
const runColour = (id: number) => RUN_COLOURS[(id - 1) % RUN_COLOURS.length]!;
const runName = (run: DistillRunRecord) => `#${run.id} ${run.method}${isBaseline(run) ? ' (baseline)' : ''}`;

/** Every run's test accuracy per epoch on one chart; baselines dashed. */
function AccuracyOverlay() {
  const runs = useDistillStore((s) => s.runs);
  const { series, points } = useMemo(() => accuracyOverlay(runs), [runs]);
  const finals = series
    .map((run) => {
      const last = [...points].reverse().find((p) => typeof p[runKey(run.id)] === 'number');
      return last ? `${runName(run)} ${Number(last[runKey(run.id)]).toFixed(1)}%` : null;
    })
    .filter(Boolean);
  return (
    <figure
      className="chart"
      data-testid="distill-accuracy-chart"
      data-series={series.length}
      data-points={points.length}
      aria-label={`Test accuracy per epoch of every run${finals.length ? `; latest: ${finals.join(', ')}` : ': no epoch finished yet'}`}
    >
      <figcaption>Test accuracy per epoch, every run (%); baselines dashed</figcaption>
      {points.length === 0 ? (
        <p className="hint chart-empty">Each run adds a line at the end of its first epoch.</p>
      ) : (
        <LineChart responsive data={points} style={{ width: '100%', height: CHART_HEIGHT }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis {...EPOCH_AXIS} />
          <YAxis {...percentAxis('test accuracy %')} />
          <Tooltip formatter={fixed(1)} labelFormatter={(epoch) => `epoch ${epoch}`} />
          {/* In the order of the runs. */}
          <Legend itemSorter={(item) => series.findIndex((run) => runKey(run.id) === item.dataKey)} />
          {series.map((run) => (
            <Line
              key={run.id}
              dataKey={runKey(run.id)}
              name={runName(run)}
              stroke={runColour(run.id)}
              strokeDasharray={isBaseline(run) ? '6 4' : undefined}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      )}
    </figure>
  );
}

function RunsTable() {
  const runs = useDistillStore((s) => s.runs);
  const methods = useDistillStore((s) => s.methods);
  const shownRunId = useDistillStore((s) => s.shownRunId);
  if (!runs.length) return null;
  return (
    <div className="runs-table-wrap">
      <h3>Runs of this visit</h3>
      <table className="runs-table" data-testid="distill-runs">
        <thead>
          <tr>
            <th>#</th>
            <th>Method</th>
            <th>Parameters (* changed)</th>
            <th>Labels</th>
            <th>Student and settings</th>
            <th>Status</th>
            <th>Test acc.</th>
            <th>vs baseline</th>
            <th>ms/step</th>
            <th>Set-up</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...runs].reverse().map((run) => {
            const accuracy = finalTestAccuracy(run);
            const baseline = isBaseline(run) ? null : baselineFor(runs, run);
            const baselineAccuracy = baseline ? finalTestAccuracy(baseline) : null;
            const method = methods?.find((m) => m.id === run.method);
            return (
              <tr
                key={run.id}
                data-testid="distill-run"
                data-run-id={run.id}
                data-method={run.method}
                data-status={run.status}
                className={run.id === shownRunId ? 'shown' : undefined}
              >
                <td>
                  <span className="run-swatch" style={{ background: runColour(run.id) }} /> {run.id}
                </td>
                <td title={run.methodLabel}>
                  {run.method}
                  {isBaseline(run) && <span className="hint"> (baseline)</span>}
                </td>
                <td className="params-cell">{paramsText(method, run.params)}</td>
                <td>{labelledText(run.labelledFraction)}</td>
                <td className="hint" title={`on ${run.datasetName}`}>
                  {settingsText(run.config)}
                </td>
                <td>{run.status}</td>
                <td data-testid="distill-run-accuracy" data-value={accuracy ?? ''}>
                  {accuracy === null ? '—' : formatPercent(accuracy)}
                </td>
                <td>
                  {accuracy !== null && baselineAccuracy !== null
                    ? `${accuracy >= baselineAccuracy ? '+' : ''}${((accuracy - baselineAccuracy) * 100).toFixed(1)} pts (#${baseline!.id})`
                    : isBaseline(run)
                      ? '—'
                      : baseline
                        ? `#${baseline.id} has no epoch yet`
                        : 'none yet'}
                </td>
                <td data-testid="distill-run-ms" data-value={run.msPerStep ?? ''}>
                  {run.msPerStep === null ? '—' : run.msPerStep.toFixed(0)}
                </td>
                <td>{run.setup ? `${run.setup.seconds.toFixed(1)} s` : '—'}</td>
                <td>
                  <button
                    type="button"
                    data-testid="distill-run-show"
                    disabled={run.id === shownRunId}
                    onClick={() => showRun(run.id)}
                  >
                    {run.id === shownRunId ? 'Shown' : 'Show curves'}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** What a starting run is doing before its first step. */
function startingText(run: DistillRunRecord, method: DistillMethodInfo | undefined): string {
  if (run.setup) return 'Starting…';
  return method?.setupNote ? `Setting up: ${method.setupNote}…` : `Setting up ${run.methodLabel}…`;
}

export function DistillPanel() {
  const state = useDistillStore();
  const dataset = useDatasetStore((s) => s.summary);
  const method = state.methods?.find((m) => m.id === state.methodId);
  const live = liveRun(state);
  const last = state.runs[state.runs.length - 1] ?? null;
  const shown = state.runs.find((r) => r.id === state.shownRunId) ?? last;
  const locked = live !== null;
  const blocker = useDistillBlocker('method', method);
  const baselineBlocker = useDistillBlocker('baseline', method);
  const formConfig = checkForm(state.form, 'student').config;
  const currentBaseline =
    formConfig && dataset
      ? baselineFor(state.runs, {
          config: formConfig,
          labelledFraction: state.labelledFraction,
          datasetId: dataset.id,
        })
      : null;
  const status = live?.status ?? 'idle';
  return (
    <section
      className="panel distill-panel"
      data-testid="panel-distillation"
      aria-labelledby="distillation-title"
    >
      <h2 id="distillation-title">Distillation</h2>
      <p className="hint">
        Distil the current teacher into a new student with one method; its controls come from the
        method&apos;s declared parameters. Every run of this visit stays in the table below, so methods and
        parameters can be compared. Short schedules (one-cycle, a few epochs) suit a browser; the papers train
        for 240 epochs.
      </p>
      <DistillTeacher />
      <ResumeOffer lane="distill" />
      <div className="training-body">
        <div className="distill-forms">
          <MethodForm locked={locked} />
          <h3 className="form-heading">Student and training</h3>
          <TrainFormFields
            idPrefix="distill"
            role="student"
            form={state.form}
            locked={locked}
            onEdit={editDistillForm}
          />
        </div>
        <div className="training-run">
          <RunButtons
            id="distill"
            status={status}
            canResume={status === 'paused'}
            blocker={blocker}
            onStart={() => void startDistill('method')}
            onPause={() => void pauseDistill()}
            onResume={() => void resumeDistill()}
            onStop={() => void stopDistill()}
          >
            <button
              type="button"
              data-testid="distill-baseline-start"
              disabled={live !== null || baselineBlocker !== null}
              title="The same student, settings, seed and labels, trained on the labels alone (method ce)"
              onClick={() => void startDistill('baseline')}
            >
              Run the baseline
            </button>
          </RunButtons>
          <p className="hint baseline-note" data-testid="distill-baseline-note">
            The baseline is the same student with the same settings, seed and labels, trained from scratch on
            the labels alone (method <code>ce</code>): one click runs it, and every run with these settings is
            compared with it (the &quot;vs baseline&quot; column, the dashed line).{' '}
            {currentBaseline
              ? `These settings have one: run #${currentBaseline.id}.`
              : 'These settings have none yet.'}
            {state.labelledFraction === 0 && ' With 0% of the labels it learns nothing: chance accuracy.'}
          </p>
          {last && (
            <RunProgressView
              id="distill"
              label="distillation"
              status={last.status}
              statusText={
                last.status === 'starting'
                  ? startingText(
                      last,
                      state.methods?.find((m) => m.id === last.method),
                    )
                  : undefined
              }
              position={last.position}
              imagesPerSecond={last.imagesPerSecond}
              etaSeconds={last.etaSeconds}
              datasetName={`#${last.id} ${last.methodLabel} · ${last.datasetName}`}
              lastSaved={last.lastSaved}
            >
              {last.msPerStep !== null && (
                <>
                  {' '}
                  ·{' '}
                  <span data-testid="distill-ms-per-step" data-value={last.msPerStep}>
                    {last.msPerStep.toFixed(0)} ms/step
                  </span>
                </>
              )}
              {last.setup && (
                <>
                  {' '}
                  ·{' '}
                  <span data-testid="distill-setup" data-seconds={last.setup.seconds}>
                    set up in {last.setup.seconds.toFixed(1)} s, {formatCount(last.setup.labelledCount)} of{' '}
                    {formatCount(last.setup.trainCount)} labels used
                  </span>
                </>
              )}
            </RunProgressView>
          )}
          <div className="charts">
            <LossChartView
              steps={shown?.steps ?? []}
              caption={
                shown
                  ? `Run #${shown.id} (${shown.method}): training loss per term`
                  : 'Training loss per term'
              }
            />
            <AccuracyOverlay />
          </div>
          {shown?.blowUp && <p className="config-error">{shown.blowUp.message}</p>}
          <RunsTable />
        </div>
      </div>
    </section>
  );
}
