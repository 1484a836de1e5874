/**
 * The temperature x alpha sweep in one host (the Worker): the cells one after another, each a short LabRun of
 * the sweep's method (config/sweep.ts) from the current teacher, paused at its step budget and scored on the
 * test split, then freed. Cells save into their own slot, never the Distillation panel's. Cancel ends the cell
 * under way (its result is dropped); the caller keeps the finished cells and asks for the rest on Resume.
 * See docs/design.md §9 (runs).
 */
import type { Dataset } from '../data/cifar10';
import {
  cellParams,
  SWEEP_BASELINE,
  SWEEP_METHOD,
  type SweepCellResult,
  type SweepCellSpec,
  type SweepEnd,
  type SweepRequest,
} from '../config/sweep';
import type { RunSlot } from '../training/savedRuns';
import { LabRun, type RunTeacher } from './labRun';
import { parseDistillConfig } from './runSpec';
import type { RunPosition, YieldToHost } from './runTypes';

export interface SweepListener {
  /** A cell begins (index into the request's cells). */
  cellStarted(index: number): void;
  /** Steps done in the cell under way (at step boundaries, at most every few hundred ms is the host's choice). */
  cellStep(index: number, step: number): void;
  cellDone(index: number, result: SweepCellResult): void;
}

const stepsDone = (p: RunPosition) => p.completedEpochs * p.stepsPerEpoch + p.stepInEpoch;

export class SweepRunner {
  private current: LabRun | null = null;
  private cancelled = false;
  private active = false;

  get isRunning(): boolean {
    return this.active;
  }

  /** Ends the sweep after the current cell's next step; that cell's result is not reported. */
  cancel(): void {
    this.cancelled = true;
    this.current?.requestPause();
  }

  async run(
    request: SweepRequest,
    dataset: Dataset,
    teacher: RunTeacher | null,
    slot: RunSlot,
    listener: SweepListener,
    yieldToHost: YieldToHost,
    now: () => number = () => performance.now(),
  ): Promise<SweepEnd> {
    if (this.active) throw new Error('a sweep is already running');
    const { steps } = request;
    if (!Number.isInteger(steps) || steps < 1)
      throw new Error(`steps per cell must be a whole number of at least 1; got ${steps}`);
    // Epochs to cover the budget, so the learning-rate schedule spans the cell rather than its first steps.
    const perEpoch = Math.ceil(dataset.train.count / request.train.batchSize);
    const epochs = Math.max(1, Math.ceil(steps / perEpoch));
    // Every cell checked before the first trains: a bad value is named at once, not after minutes of training.
    const settings = request.cells.map((cell) => parseDistillConfig(configOf(cell, request, epochs)));
    this.active = true;
    this.cancelled = false;
    let done = 0;
    try {
      for (const [index, cellSettings] of settings.entries()) {
        if (this.cancelled) break;
        listener.cellStarted(index);
        const started = now();
        const run = await LabRun.start(cellSettings, dataset, teacher, slot);
        this.current = run;
        try {
          if (this.cancelled) break;
          let reached = false;
          const end = await run.run(
            {
              step: () => undefined,
              epoch: () => undefined,
              boundary: (position) => {
                const step = stepsDone(position);
                listener.cellStep(index, step);
                if (step >= steps && !reached) {
                  reached = true;
                  run.requestPause();
                }
              },
            },
            yieldToHost,
          );
          if (this.cancelled) break;
          if (end.kind === 'nan') throw new Error(end.message);
          const { accuracy } = await run.evaluate(dataset.test);
          const trained = stepsDone(run.position());
          listener.cellDone(index, {
            cell: request.cells[index] ?? null,
            testAccuracy: accuracy,
            steps: trained,
            seconds: (now() - started) / 1000,
          });
          done++;
        } finally {
          this.current = null;
          run.dispose();
        }
      }
    } finally {
      this.active = false;
      await slot.clear();
    }
    return { kind: this.cancelled && done < request.cells.length ? 'cancelled' : 'done', done };
  }
}

function configOf(cell: SweepCellSpec | null, request: SweepRequest, epochs: number) {
  return {
    method: cell === null ? SWEEP_BASELINE : SWEEP_METHOD,
    params: cell === null ? {} : cellParams(cell),
    labelledFraction: 1,
    train: { ...request.train, role: 'student' as const, epochs },
  };
}
