/**
 * A scheme run as a sequence of LabRuns (born-again generations, a teacher-assistant chain): each stage is one
 * run of a method of the registry (`ce` or `kd`), and a stage distils from the scheme's given teacher or from
 * an earlier stage's finished model. Every stage has its own checkpoint slot, so pause, stop and resume work
 * per stage as for any run, and a restored scheme finds its finished stages' models again to teach the next.
 * See docs/design.md, "Schemes".
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset, ImageSplit } from '../data/cifar10';
import { LabRun, type RunTeacher } from '../run/labRun';
import { parseDistillConfig, type DistillSettings } from '../run/runSpec';
import type { RunEnd, RunPosition, YieldToHost } from '../run/runTypes';
import { countCorrect, type EpochLog, type StepLog } from '../training/trainer';
import type { SchemeStorage } from './multiRun';

/** The scheme's own teacher, as a stage's `teacher` names it. */
export const GIVEN_TEACHER = 'given';

export interface Stage {
  readonly name: string;
  readonly settings: DistillSettings;
  /** Whom it distils from: GIVEN_TEACHER, an earlier stage's name, or null (on labels, `ce`). */
  readonly teacher: string | null;
}

export interface StagedListener {
  stageStart?(stage: string, index: number): void;
  step(stage: string, log: StepLog): void;
  epoch(stage: string, log: EpochLog): void;
  boundary(stage: string, position: RunPosition): void;
  stageEnd?(stage: string, testAccuracy: number | null): void;
}

interface StagedManifest {
  readonly format: 'distillery-scheme';
  readonly kind: string;
  readonly stages: readonly Stage[];
  readonly teacher: { readonly preset: string; readonly source: string } | null;
  readonly datasetId: string;
  /** What the scheme's own report needs (born-again's ensemble switch). */
  readonly extras: Readonly<Record<string, number | boolean>>;
}

export class StagedRun {
  private current = 0;
  private stopping = false;

  private constructor(
    readonly kind: string,
    readonly stages: readonly Stage[],
    private readonly runs: (LabRun | null)[],
    private readonly dataset: Dataset,
    private readonly given: RunTeacher | null,
    private readonly storage: SchemeStorage,
    readonly extras: Readonly<Record<string, number | boolean>>,
  ) {}

  /** A fresh scheme: every stage's settings checked now (the engine's reasons), the manifest written. */
  static async start(
    kind: string,
    stages: readonly Stage[],
    dataset: Dataset,
    given: RunTeacher | null,
    storage: SchemeStorage,
    extras: Readonly<Record<string, number | boolean>> = {},
  ): Promise<StagedRun> {
    const checked = stages.map((s) => ({ ...s, settings: parseDistillConfig(s.settings) }));
    checked.forEach((s, i) => {
      if (s.teacher === GIVEN_TEACHER && !given)
        throw new Error(`stage ${s.name} distils from the scheme's teacher; give one`);
      if (s.teacher && s.teacher !== GIVEN_TEACHER && !checked.slice(0, i).some((e) => e.name === s.teacher))
        throw new Error(`stage ${s.name} distils from ${s.teacher}, which is not an earlier stage`);
    });
    const manifest: StagedManifest = {
      format: 'distillery-scheme',
      kind,
      stages: checked,
      teacher: given ? { preset: given.preset, source: given.source } : null,
      datasetId: dataset.id,
      extras,
    };
    await storage.writeManifest(JSON.stringify(manifest));
    return new StagedRun(
      kind,
      checked,
      checked.map(() => null),
      dataset,
      given,
      storage,
      extras,
    );
  }

  /** The scheme saved in `storage`: finished stages' models back, the stage under way at its checkpoint. */
  static async restore(
    storage: SchemeStorage,
    dataset: Dataset,
    given: RunTeacher | null,
  ): Promise<StagedRun> {
    const text = await storage.readManifest();
    if (!text) throw new Error('no saved scheme run here (its manifest is missing)');
    const manifest = JSON.parse(text) as StagedManifest;
    if (manifest.format !== 'distillery-scheme' || !Array.isArray(manifest.stages))
      throw new Error(`the manifest names no staged scheme (kind ${String(manifest.kind)})`);
    if (manifest.datasetId !== dataset.id)
      throw new Error(`the saved scheme run trains on dataset ${manifest.datasetId}, not on ${dataset.name}`);
    const run = new StagedRun(
      manifest.kind,
      manifest.stages,
      manifest.stages.map(() => null),
      dataset,
      given,
      storage,
      manifest.extras ?? {},
    );
    try {
      for (let i = 0; i < manifest.stages.length; i++) {
        const slot = storage.slot(manifest.stages[i]!.name);
        if (!(await slot.exists())) break;
        const stageRun = await LabRun.restore(slot, dataset, run.teacherFor(i));
        run.runs[i] = stageRun;
        run.current = i;
        if (!stageRun.isFinished) break;
        stageRun.stop();
        run.current = i + 1;
      }
    } catch (error) {
      run.dispose();
      throw error;
    }
    return run;
  }

  /** The teacher of stage `index`: the given one, an earlier stage's finished model, or null. */
  teacherFor(index: number): RunTeacher | null {
    const stage = this.stages[index]!;
    if (stage.teacher === null) return null;
    if (stage.teacher === GIVEN_TEACHER) {
      if (!this.given) throw new Error(`stage ${stage.name} distils from the scheme's teacher; give one`);
      return this.given;
    }
    const from = this.stages.findIndex((s) => s.name === stage.teacher);
    const run = this.runs[from];
    if (!run?.isFinished) throw new Error(`stage ${stage.name} needs ${stage.teacher} finished first`);
    return {
      model: run.model,
      preset: this.stages[from]!.settings.train.model,
      source: `stage ${stage.teacher}`,
    };
  }

  get isFinished(): boolean {
    return this.current >= this.stages.length;
  }

  /** The stage under way (or next), by index. */
  get stageIndex(): number {
    return this.current;
  }

  /** A stage's model, once its run exists. */
  model(stage: string): tf.LayersModel | null {
    return this.runs[this.stages.findIndex((s) => s.name === stage)]?.model ?? null;
  }

  /** Runs stage after stage until all are done, a pause or stop request, or a non-finite loss. */
  async run(listener: StagedListener, yieldToHost: YieldToHost): Promise<RunEnd> {
    this.stopping = false;
    while (this.current < this.stages.length) {
      const i = this.current;
      const stage = this.stages[i]!;
      let run = this.runs[i];
      if (!run) {
        run = await LabRun.start(
          stage.settings,
          this.dataset,
          this.teacherFor(i),
          this.storage.slot(stage.name),
        );
        this.runs[i] = run;
      }
      listener.stageStart?.(stage.name, i);
      const end = await run.run(
        {
          step: (log) => listener.step(stage.name, log),
          epoch: (log) => listener.epoch(stage.name, log),
          boundary: (position) => listener.boundary(stage.name, position),
        },
        yieldToHost,
      );
      if (end.kind !== 'done') return end;
      listener.stageEnd?.(stage.name, run.state.epochs.at(-1)?.testAccuracy ?? null);
      this.current = i + 1;
      if (this.stopping) return { kind: 'stopped' };
    }
    return { kind: 'done' };
  }

  requestPause(): void {
    this.runs[this.current]?.requestPause();
  }

  stop(): void {
    this.stopping = true;
    this.runs[this.current]?.stop();
  }

  /** Top-1 accuracy of each stage's model now, by stage name (stages not started are left out). */
  async evaluate(split: ImageSplit): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.stages.length; i++) {
      const run = this.runs[i];
      if (run) out[this.stages[i]!.name] = (await run.evaluate(split)).accuracy;
    }
    return out;
  }

  dispose(): void {
    for (const run of this.runs) run?.dispose();
  }
}

/**
 * Top-1 of the mean of the models' softmaxes on a split (born-again's ensemble of generations); the counts stay
 * on the device until one read.
 */
export async function ensembleAccuracy(
  models: readonly tf.LayersModel[],
  split: ImageSplit,
  batchSize = 256,
): Promise<number> {
  if (!models.length || split.count === 0) return Number.NaN;
  const mean = (images: tf.Tensor4D) =>
    tf.div(
      tf.addN(
        models.map((m) =>
          tf.softmax((m.apply(images, { training: false }) as tf.Tensor[])[0] as tf.Tensor2D),
        ),
      ),
      models.length,
    ) as tf.Tensor2D;
  const count = await countCorrect(split, mean, batchSize);
  return count / split.count;
}
