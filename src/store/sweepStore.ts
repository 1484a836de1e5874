/**
 * The sweep panel's state and actions: the grid and budget as typed, the finished cells of this visit (kept
 * across Cancel, so Resume runs only the rest), and the cell under way. The cells run in the Worker
 * (EngineApi.runSweep) with the Distillation panel's student and settings; results kept for one budget,
 * student, dataset and teacher are dropped when any of them changes. The grid's values are checked against the swept method's declared
 * ranges (from the Worker's method list), the same check the engine applies again.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import {
  cellKey,
  DEFAULT_SWEEP_ALPHAS,
  DEFAULT_SWEEP_STEPS,
  DEFAULT_SWEEP_TEMPERATURES,
  parseSweepList,
  parseSweepSteps,
  SWEEP_COLUMN_PARAM,
  SWEEP_METHOD,
  SWEEP_ROW_PARAM,
  type SweepCellResult,
  type SweepCellSpec,
} from '../engine/config/sweep';
import type { TrainConfig } from '../engine/config/training';
import type { DistillMethodInfo, SweepListener } from '../worker/protocol';
import { useDistillStore } from './distillStores';
import { getEngine, messageOf } from './engineClient';
import { reportError, useDatasetStore } from './stores';
import { useTeacherStore, useTrainingStore } from './trainingStores';
import { remainingCells } from './sweepView';
import { checkForm } from './trainForm';

export type SweepStatus = 'idle' | 'running' | 'cancelling' | 'cancelled' | 'done' | 'failed';

export interface SweepState {
  readonly temperaturesText: string;
  readonly alphasText: string;
  readonly stepsText: string;
  /** Finished cells by cellKey (the baseline under the baseline's id). */
  readonly results: Readonly<Record<string, SweepCellResult>>;
  /** What the kept results were trained with: the budget and settings; a different one starts afresh. */
  readonly resultsOf: string | null;
  /** The grid of the latest run (the heatmap's rows and columns). */
  readonly grid: { readonly temperatures: readonly number[]; readonly alphas: readonly number[] };
  readonly status: SweepStatus;
  readonly running: { readonly key: string; readonly step: number; readonly steps: number } | null;
  readonly error: string | null;
}

const initial = (): SweepState => ({
  temperaturesText: DEFAULT_SWEEP_TEMPERATURES.join(', '),
  alphasText: DEFAULT_SWEEP_ALPHAS.join(', '),
  stepsText: String(DEFAULT_SWEEP_STEPS),
  results: {},
  resultsOf: null,
  grid: { temperatures: DEFAULT_SWEEP_TEMPERATURES, alphas: DEFAULT_SWEEP_ALPHAS },
  status: 'idle',
  running: null,
  error: null,
});

export const useSweepStore = create<SweepState>(initial);
const update = (change: Partial<SweepState>) => useSweepStore.setState(change);

export const editSweep = (
  patch: Partial<Pick<SweepState, 'temperaturesText' | 'alphasText' | 'stepsText'>>,
) => update({ ...patch, error: null });

export interface SweepPlan {
  readonly temperatures: number[];
  readonly alphas: number[];
  readonly steps: number;
  readonly train: TrainConfig;
  /** The budget and settings, as the kept results are labelled with. */
  readonly of: string;
}

/** The typed grid and budget with the Distillation panel's student settings, or every reason they are refused. */
export function planSweep(
  state: Pick<SweepState, 'temperaturesText' | 'alphasText' | 'stepsText'>,
  methods: readonly DistillMethodInfo[] | null,
  form: Parameters<typeof checkForm>[0],
  /** What else the results depend on (the dataset, the teacher): part of `of`. */
  origin: unknown = null,
): { plan: SweepPlan } | { error: string } {
  const method = methods?.find((m) => m.id === SWEEP_METHOD);
  const row = method?.params.find((p) => p.name === SWEEP_ROW_PARAM);
  const column = method?.params.find((p) => p.name === SWEEP_COLUMN_PARAM);
  if (!row || !column) return { error: 'the distillation methods are still loading' };
  const temperatures = parseSweepList(state.temperaturesText, row);
  const alphas = parseSweepList(state.alphasText, column);
  const steps = parseSweepSteps(state.stepsText);
  const { config, error } = checkForm(form, 'student');
  const problems = [temperatures, alphas, steps].flatMap((r) => ('error' in r ? [r.error] : []));
  if (!config) problems.push(`the Distillation panel's settings: ${error}`);
  if (problems.length || !config || 'error' in temperatures || 'error' in alphas || 'error' in steps)
    return { error: problems.join('; ') };
  return {
    plan: {
      temperatures: temperatures.values,
      alphas: alphas.values,
      steps: steps.steps,
      train: config,
      of: JSON.stringify({ steps: steps.steps, train: config, origin }),
    },
  };
}

/**
 * Runs the grid: `fresh` forgets the kept cells first; otherwise (Resume) only the cells without a result for
 * this budget and settings run.
 */
export async function runSweep(fresh: boolean): Promise<void> {
  const state = useSweepStore.getState();
  if (state.status === 'running' || state.status === 'cancelling') return;
  const distill = useDistillStore.getState();
  // Kept cells are resumed only for the same dataset and teacher (a teacher trained on since is another one).
  const teacher = useTeacherStore.getState().info;
  const origin = {
    dataset: useDatasetStore.getState().summary?.id ?? null,
    teacher: teacher && { source: teacher.source, preset: teacher.preset, name: teacher.name },
    teacherEpochs: useTrainingStore.getState().teacher.epochs.length,
  };
  const planned = planSweep(state, distill.methods, distill.form, origin);
  if ('error' in planned) {
    update({ error: planned.error });
    return;
  }
  const { plan } = planned;
  const results = !fresh && state.resultsOf === plan.of ? state.results : {};
  const cells = remainingCells(plan.temperatures, plan.alphas, results);
  update({
    results,
    resultsOf: plan.of,
    grid: { temperatures: plan.temperatures, alphas: plan.alphas },
    status: 'running',
    running: null,
    error: null,
  });
  if (cells.length === 0) {
    update({ status: 'done' });
    return;
  }
  const keyOf = (index: number) => cellKey(cells[index] ?? null);
  const listener: SweepListener = Comlink.proxy({
    cellStarted: (index: number) => update({ running: { key: keyOf(index), step: 0, steps: plan.steps } }),
    cellStep: (index: number, step: number) =>
      update({ running: { key: keyOf(index), step, steps: plan.steps } }),
    cellDone: (index: number, result: SweepCellResult) =>
      useSweepStore.setState((s) => ({ results: { ...s.results, [keyOf(index)]: result } })),
  });
  try {
    const end = await getEngine(reportError).runSweep(
      { cells: cells as (SweepCellSpec | null)[], steps: plan.steps, train: plan.train },
      listener,
    );
    update({ status: end.kind === 'done' ? 'done' : 'cancelled', running: null });
  } catch (error) {
    update({ status: 'failed', running: null, error: messageOf(error) });
  }
}

export async function cancelSweep(): Promise<void> {
  if (useSweepStore.getState().status !== 'running') return;
  update({ status: 'cancelling' });
  try {
    await getEngine(reportError).cancelSweep();
  } catch (error) {
    update({ error: messageOf(error) });
  }
}
