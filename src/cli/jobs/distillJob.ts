/**
 * One `npm run cli -- distill` run as a child process, reduced to what a results table needs (final test
 * top-1, final loss, ms per step, the settings it reported), and one `npm run cli -- ood` analysis of its
 * checkpoint (the trust panel's engine: AUROC per OoD set and score, ECE). Shared by `reproduce`, `sweep` and
 * scripts/check-defaults.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findMethod } from '../../engine/distill/registry';
import type { EpochLog, StepLog } from '../../engine/training/trainer';
import { type ChildResult, cliCommandText, failureOf, runCliChild } from './childCli';

export interface DistillSpec {
  readonly method: string;
  /** --param name=value pairs; absent: the method's defaults. */
  readonly params?: Readonly<Record<string, number>>;
  readonly student: string;
  readonly seed: number;
  /** Absent: the student's default epochs. */
  readonly epochs?: number;
  /** Absent, or for a method that needs none (the baseline): no teacher. */
  readonly teacher?: string;
  readonly set?: string;
  readonly limitSteps?: number;
  readonly backend?: string;
}

export interface DistillOutcome {
  readonly status: 'ok' | 'non-finite loss' | 'failed' | 'stopped';
  /** The failure's message, for a failed run. */
  readonly message?: string;
  readonly testAccuracy: number | null;
  readonly epochAccuracies: number[];
  readonly finalLoss: number | null;
  readonly msPerStep: number | null;
  /** Training steps logged by the last call. */
  readonly steps: number;
  /** What the CLI's start line reported it used (the defaults made explicit). */
  readonly learningRate: number | null;
  readonly params: Record<string, number>;
  /** Seconds of the last call (a resumed run's earlier calls are not counted). */
  readonly seconds: number;
  /** Whether the last call continued an interrupted run's checkpoint (steps, msPerStep: that call's). */
  readonly resumed: boolean;
  /** The command, without the --out folder. */
  readonly command: string;
}

/** The distill arguments for a spec, with and without the --out folder (the latter is the command shown). */
export function distillArgs(spec: DistillSpec, out: string | null): string[] {
  const args = ['distill', '--method', spec.method, '--student', spec.student];
  if (spec.epochs !== undefined) args.push('--epochs', String(spec.epochs));
  args.push('--seed', String(spec.seed));
  for (const [name, value] of Object.entries(spec.params ?? {})) args.push('--param', `${name}=${value}`);
  if (spec.teacher && findMethod(spec.method).needsTeacher) args.push('--teacher', spec.teacher);
  if (spec.set) args.push('--set', spec.set);
  if (spec.backend) args.push('--backend', spec.backend);
  if (spec.limitSteps !== undefined) args.push('--limit-steps', String(spec.limitSteps));
  if (out !== null) args.push('--out', out);
  return args;
}

export interface TrainingProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly loss: number | null;
  readonly lastTestAccuracy: number | null;
}

/** `distill --resume DIR` for a checkpoint of the same spec (a distillation needs its teacher again). */
function resumeArgs(spec: DistillSpec, out: string): string[] {
  const args = ['distill', '--resume', out];
  if (spec.teacher && findMethod(spec.method).needsTeacher) args.push('--teacher', spec.teacher);
  if (spec.epochs !== undefined) args.push('--epochs', String(spec.epochs));
  if (spec.set) args.push('--set', spec.set);
  if (spec.backend) args.push('--backend', spec.backend);
  return args;
}

/**
 * Runs the distillation into `out`. A checkpoint there from an interrupted run of the same spec (the spec is
 * kept beside it in `<out>.spec.json`) is continued with `distill --resume`; anything else starts afresh. A
 * --limit-steps run (a test's) always starts afresh: its limit counts the steps of one call.
 */
export async function runDistill(
  spec: DistillSpec,
  out: string,
  onProgress: (progress: TrainingProgress) => void = () => undefined,
): Promise<DistillOutcome> {
  const started = performance.now();
  const specFile = `${out}.spec.json`;
  const keptSpec = await readFile(specFile, 'utf8').catch(() => null);
  const resume =
    spec.limitSteps === undefined && keptSpec === JSON.stringify(spec) && existsSync(join(out, 'state.json'));
  if (!resume) {
    await mkdir(dirname(specFile), { recursive: true });
    await writeFile(specFile, JSON.stringify(spec));
  }
  let epochs = spec.epochs ?? 0;
  let lastTestAccuracy: number | null = null;
  const args = resume ? resumeArgs(spec, out) : distillArgs(spec, out);
  const result: ChildResult = await runCliChild(args, (line) => {
    if (line.kind === 'start') {
      epochs = (line.config as { epochs: number }).epochs;
    } else if (line.kind === 'epoch') {
      lastTestAccuracy = (line as unknown as EpochLog).testAccuracy;
    } else if (line.kind === 'step') {
      const step = line as unknown as StepLog;
      onProgress({
        epoch: step.epoch,
        epochs,
        step: step.step,
        stepsPerEpoch: step.stepsPerEpoch,
        loss: step.terms.total ?? null,
        lastTestAccuracy,
      });
    }
  });
  return outcomeOf(spec, result, (performance.now() - started) / 1000, resume);
}

function outcomeOf(
  spec: DistillSpec,
  result: ChildResult,
  seconds: number,
  resumed: boolean,
): DistillOutcome {
  const { lines } = result;
  const start = lines.find((l) => l.kind === 'start') as
    { config: { learningRate: number }; params: Record<string, number> } | undefined;
  const steps = lines.filter((l) => l.kind === 'step') as unknown as StepLog[];
  const epochLines = lines.filter((l) => l.kind === 'epoch') as unknown as EpochLog[];
  const done = lines.find((l) => l.kind === 'done') as
    { msPerStep?: number; testAccuracy?: number } | undefined;
  const nonFinite = steps.some((s) => Object.values(s.terms).some((v) => !Number.isFinite(v)));
  const error = lines.find((l) => l.kind === 'error') as { message?: string } | undefined;
  const status = nonFinite
    ? 'non-finite loss'
    : result.code === 0 && done
      ? 'ok'
      : result.code === 130
        ? 'stopped'
        : 'failed';
  return {
    status,
    ...(status === 'failed' ? { message: error?.message ?? failureOf(result) } : {}),
    // A --limit-steps run reports its test accuracy on the done line; a full run on its last epoch line.
    testAccuracy: done?.testAccuracy ?? epochLines.at(-1)?.testAccuracy ?? null,
    epochAccuracies: epochLines.map((e) => e.testAccuracy),
    finalLoss: steps.at(-1)?.terms.total ?? null,
    msPerStep: done?.msPerStep ?? null,
    steps: steps.length,
    learningRate: start?.config.learningRate ?? null,
    params: start?.params ?? {},
    seconds,
    resumed,
    command: cliCommandText(distillArgs(spec, null)),
  };
}

export interface OodOutcome {
  /** AUROC by OoD set name, then by score (msp, entropy, energy, anchorU). */
  readonly auroc: Record<string, Record<string, number>>;
  readonly accuracy: number;
  readonly ece: number;
  /** Which anchors u(x) used, as the ood command says it. */
  readonly anchors: string;
  readonly seconds: number;
  readonly command: string;
}

/** `npm run cli -- ood --json` on a distill checkpoint; throws with the CLI's message when it fails. */
export async function runOod(
  checkpoint: string,
  options: { teacher?: string; ood: readonly string[]; set?: string; backend?: string },
  /** Where the teacher's anchor choice is kept for the next analysis (`ood --anchors-cache`). */
  anchorsCache?: string,
): Promise<OodOutcome> {
  const tail: string[] = [];
  if (options.teacher) tail.push('--teacher', options.teacher);
  for (const set of options.ood) tail.push('--ood', set);
  if (options.set) tail.push('--set', options.set);
  if (options.backend) tail.push('--backend', options.backend);
  const started = performance.now();
  const cache = anchorsCache ? ['--anchors-cache', anchorsCache] : [];
  const result = await runCliChild(['ood', '--checkpoint', checkpoint, ...tail, ...cache, '--json']);
  if (result.code !== 0) throw new Error(`ood analysis of ${checkpoint} failed: ${failureOf(result)}`);
  const auroc: Record<string, Record<string, number>> = {};
  for (const line of result.lines.filter((l) => l.kind === 'ood') as {
    set: string;
    score: string;
    auroc: number;
  }[])
    (auroc[line.set] ??= {})[line.score] = line.auroc;
  const calibration = result.lines.find((l) => l.kind === 'calibration') as
    { accuracy: number; ece: number } | undefined;
  const summary = result.lines.find((l) => l.kind === 'summary') as { anchors?: string } | undefined;
  if (!calibration) throw new Error(`ood analysis of ${checkpoint} printed no calibration line`);
  return {
    auroc,
    accuracy: calibration.accuracy,
    ece: calibration.ece,
    anchors: summary?.anchors ?? '',
    seconds: (performance.now() - started) / 1000,
    command: cliCommandText(['ood', '--checkpoint', 'DIR', ...tail, '--json']),
  };
}
