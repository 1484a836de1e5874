import * as Comlink from 'comlink';
import type { EngineApi } from '../worker/protocol';

let engine: Comlink.Remote<EngineApi> | null = null;

/** The engine Worker, started on first use. `onCrash` hears errors that no call can return (a failed load). */
export function getEngine(onCrash: (message: string) => void): Comlink.Remote<EngineApi> {
  if (!engine) {
    const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('error', (event) =>
      onCrash(`The engine worker failed: ${event.message || 'could not load'}`),
    );
    engine = Comlink.wrap<EngineApi>(worker);
    // `npm run bench` measures the browser's backends through these handles (scripts/bench.ts,
    // scripts/bench-teacher-ahead.ts).
    const bench: EngineApi['benchmark'] = (presetId, options) => engine!.benchmark(presetId, options);
    const benchDistill: EngineApi['benchmarkDistill'] = (methodId, options) =>
      engine!.benchmarkDistill(methodId, options);
    Object.assign(window, { distilleryBenchmark: bench, distilleryDistillBenchmark: benchDistill });
  }
  return engine;
}

/** comlink re-throws the Worker's Error; its message is written for users. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
