/** The Distillation panel's progress line for the latest run: status, position, speed, ms/step and set-up time. */
import { RunProgressView } from './RunProgress';
import { formatCount } from '../engine/config/format';
import type { DistillRunRecord } from '../store/distillState';
import type { DistillMethodInfo } from '../worker/protocol';

/** What a starting run is doing before its first step. */
function startingText(run: DistillRunRecord, method: DistillMethodInfo | undefined): string {
  if (run.setup) return 'Starting…';
  return method?.setupNote ? `Setting up: ${method.setupNote}…` : `Setting up ${run.methodLabel}…`;
}

/** `run` is the latest run; `method` its method's declaration, when the methods are known. */
export function DistillProgressLine({
  run,
  method,
}: {
  run: DistillRunRecord;
  method: DistillMethodInfo | undefined;
}) {
  return (
    <RunProgressView
      id="distill"
      label="distillation"
      status={run.status}
      statusText={run.status === 'starting' ? startingText(run, method) : undefined}
      position={run.position}
      imagesPerSecond={run.imagesPerSecond}
      etaSeconds={run.etaSeconds}
      datasetName={`#${run.id} ${run.methodLabel} · ${run.datasetName}`}
      lastSaved={run.lastSaved}
    >
      {run.msPerStep !== null && (
        <>
          {' '}
          ·{' '}
          <span data-testid="distill-ms-per-step" data-value={run.msPerStep}>
            {run.msPerStep.toFixed(0)} ms/step
          </span>
        </>
      )}
      {run.setup && (
        <>
          {' '}
          ·{' '}
          <span data-testid="distill-setup" data-seconds={run.setup.seconds}>
            set up in {run.setup.seconds.toFixed(1)} s, {formatCount(run.setup.labelledCount)} of{' '}
            {formatCount(run.setup.trainCount)} labels used
          </span>
          {run.setup.teacherAhead && (
            <span
              data-testid="distill-teacher-ahead"
              title="The teacher's pass runs a batch ahead in a Worker of its own, on a core of its own: one the student's single-threaded wasm leaves free, or a thread its wasm pool gives up (2 to 4 cores)"
            >
              {' '}
              · teacher on its own thread
            </span>
          )}
        </>
      )}
    </RunProgressView>
  );
}
