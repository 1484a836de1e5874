/**
 * The lab's mutual-learning run (the Worker hosts it; the UI's Mutual learning panel starts and stops it): two
 * to four student presets trained together on the active dataset by deep mutual learning (mutual.ts), in
 * memory (a browser run of a few epochs; the CLI's `scheme --kind mutual` keeps checkpoints), one run at a time.
 * See docs/design.md, "Schemes".
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/cifar10';
import { validateParams } from '../distill/method';
import { findPreset } from '../models/presets';
import { logEveryFor, type RunEnd, type YieldToHost } from '../run/runTypes';
import { defaultTrainConfig, parseTrainConfig } from '../training/hyperparams';
import { memorySchemeStorage, MultiRun } from './multiRun';
import type { MultiEpochLog, MultiStepLog } from './multiTrainer';
import { mutualScheme } from './mutual';

export interface MutualRequest {
  /** Student presets, 2 to 4. */
  readonly models: readonly string[];
  readonly epochs: number;
  /** Left out: mutual.ts's default (1). */
  readonly temperature?: number;
  readonly seed: number;
  readonly batchSize: number;
}

export interface MutualListener {
  step(log: MultiStepLog): void;
  epoch(log: MultiEpochLog): void;
}

export interface MutualResult {
  readonly end: RunEnd['kind'];
  /** Each model's name and preset, in order. */
  readonly models: readonly { readonly name: string; readonly preset: string }[];
  /** Final test accuracy by model name. */
  readonly testAccuracy: Readonly<Record<string, number>>;
}

export class MutualLab {
  private run: MultiRun | null = null;

  get isRunning(): boolean {
    return this.run !== null;
  }

  /** Trains to the end or a stop; bad settings are refused with every reason. */
  async start(
    dataset: Dataset,
    request: MutualRequest,
    listener: MutualListener,
    yieldToHost: YieldToHost,
  ): Promise<MutualResult> {
    if (this.run) throw new Error('a mutual-learning run is training; stop it first');
    const problems: string[] = [];
    if (!(request.models.length >= 2 && request.models.length <= 4))
      problems.push(`mutual learning takes 2 to 4 students; got ${request.models.length}`);
    for (const id of request.models) {
      try {
        if (findPreset(id).role !== 'student') problems.push(`${id} is a teacher model, not a student`);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    let params = {};
    try {
      params = validateParams(
        mutualScheme,
        request.temperature === undefined ? {} : { temperature: request.temperature },
      );
    } catch (error) {
      problems.push((error as Error).message);
    }
    const configs = request.models.map((model) => {
      try {
        return parseTrainConfig({
          ...defaultTrainConfig(model),
          role: 'student',
          model,
          epochs: request.epochs,
          seed: request.seed,
          batchSize: request.batchSize,
          logEvery: logEveryFor(tf.getBackend()),
        });
      } catch (error) {
        problems.push((error as Error).message);
        return null;
      }
    });
    if (problems.length) throw new Error([...new Set(problems)].join('; '));
    const members = configs.map((config, i) => ({
      name: `student${i + 1}`,
      config: config!,
      initSeed: request.seed + i,
    }));
    const run = await MultiRun.start(
      { scheme: mutualScheme, params, members },
      dataset,
      memorySchemeStorage(),
      {
        checkpointSeconds: Number.POSITIVE_INFINITY,
      },
    );
    this.run = run;
    try {
      const end = await run.run(
        { step: (log) => listener.step(log), epoch: (log) => listener.epoch(log), boundary: () => undefined },
        yieldToHost,
      );
      return {
        end: end.kind,
        models: members.map((m) => ({ name: m.name, preset: m.config.model })),
        testAccuracy: await run.evaluate(dataset.test),
      };
    } finally {
      this.run = null;
      run.dispose();
    }
  }

  /** Ends the run at its next step; its start call then resolves with the accuracies there. */
  stop(): void {
    this.run?.stop();
  }
}
