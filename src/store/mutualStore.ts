/**
 * The Mutual learning panel's store: the run's settings, its progress as the Worker reports it (each student's
 * total loss by step, each epoch's test accuracies) and each student's final test accuracy. Pure reducers
 * (tested) plus the two actions that talk to the Worker through the protocol. See docs/design.md, "Schemes".
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import type { MultiEpochLog, MultiStepLog, MutualProgressListener, MutualResult } from '../worker/protocol';
import { getEngine, messageOf } from './engineClient';
import { reportError } from './stores';

export interface MutualPoint {
  readonly step: number;
  /** Each student's total loss at that step, by model name. */
  readonly totals: Readonly<Record<string, number>>;
}

export interface MutualState {
  readonly models: readonly [string, string];
  readonly epochs: number;
  readonly status: 'idle' | 'running' | 'done' | 'stopped' | 'error';
  readonly points: readonly MutualPoint[];
  readonly epochLogs: readonly MultiEpochLog[];
  readonly result: MutualResult | null;
  readonly error: string | null;
}

export const initialMutualState = (): MutualState => ({
  models: ['cnn-small', 'resnet8'],
  epochs: 1,
  status: 'idle',
  points: [],
  epochLogs: [],
  result: null,
  error: null,
});

export const useMutualStore = create<MutualState>(() => initialMutualState());

/** Appends step logs as points (global step, each model's total). */
export function withSteps(state: MutualState, logs: readonly MultiStepLog[]): MutualState {
  const points = logs.map((log) => ({
    step: (log.epoch - 1) * log.stepsPerEpoch + log.step,
    totals: Object.fromEntries(Object.entries(log.models).map(([name, m]) => [name, m.terms.total!])),
  }));
  return { ...state, points: [...state.points, ...points] };
}

export const withEpoch = (state: MutualState, log: MultiEpochLog): MutualState => ({
  ...state,
  epochLogs: [...state.epochLogs, log],
});

export function chooseModel(index: 0 | 1, preset: string): void {
  const models = [...useMutualStore.getState().models] as [string, string];
  models[index] = preset;
  useMutualStore.setState({ models });
}

export function chooseEpochs(epochs: number): void {
  useMutualStore.setState({ epochs });
}

/** Starts a run with the panel's settings and the seed 1; refusals show beside the panel's button. */
export async function startMutual(): Promise<void> {
  const { status, models, epochs } = useMutualStore.getState();
  if (status === 'running') return;
  useMutualStore.setState({ status: 'running', points: [], epochLogs: [], result: null, error: null });
  const listener: MutualProgressListener = {
    steps: (logs) => useMutualStore.setState((s) => withSteps(s, logs)),
    epoch: (log) => useMutualStore.setState((s) => withEpoch(s, log)),
  };
  try {
    const result = await getEngine(reportError).runMutual(
      { models, epochs, seed: 1, batchSize: 64 },
      Comlink.proxy(listener),
    );
    useMutualStore.setState({ status: result.end === 'done' ? 'done' : 'stopped', result });
  } catch (error) {
    useMutualStore.setState({ status: 'error', error: messageOf(error) });
  }
}

export async function stopMutual(): Promise<void> {
  await getEngine(reportError).stopMutual();
}
