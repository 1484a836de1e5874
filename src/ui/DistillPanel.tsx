/** The Distillation panel: picks a method and a student, starts a run or its baseline, and lays out the parts that show the runs. */
import { DistillAccuracyOverlay } from './DistillAccuracyOverlay';
import { DistillMethodForm } from './DistillMethodForm';
import { DistillProgressLine } from './DistillProgressLine';
import { DistillRunsTable } from './DistillRunsTable';
import { DistillTeacherLine, useCurrentTeacher } from './DistillTeacherLine';
import { ResumeOffer } from './ResumeOffer';
import { RunButtons, useLabBlocker } from './RunControls';
import { LossChartView } from './TrainingCharts';
import { TrainFormFields } from './TrainFormView';
import {
  editDistillForm,
  pauseDistill,
  resumeDistill,
  startDistill,
  stopDistill,
} from '../store/distillActions';
import { checkParams } from '../store/distillForm';
import { baselineFor, liveRun } from '../store/distillState';
import { useDistillStore } from '../store/distillStores';
import { useDatasetStore } from '../store/stores';
import { activeRole, useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { checkForm } from '../store/trainForm';
import type { DistillMethodInfo } from '../worker/protocol';

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
      <DistillTeacherLine />
      <ResumeOffer lane="distill" />
      <div className="training-body">
        <div className="distill-forms">
          <DistillMethodForm locked={locked} />
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
            <DistillProgressLine run={last} method={state.methods?.find((m) => m.id === last.method)} />
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
            <DistillAccuracyOverlay />
          </div>
          {shown?.blowUp && <p className="config-error">{shown.blowUp.message}</p>}
          <DistillRunsTable />
        </div>
      </div>
    </section>
  );
}
