/**
 * A run of a scheme that trains several models in the same steps (mutual learning, online distillation): the
 * models, their optimizers and the scheme's loss over a MultiTrainer, with LabRun's run/pause/stop and
 * checkpoints: one per model, in its own slot (the run checkpoint format of src/engine/run/runCheckpoint.ts,
 * the scheme's state for that model, e.g. online's auxiliary heads, as its method state), at every epoch end, on
 * pause and stop and every `checkpointSeconds`; a manifest names the scheme and its models, so `restore` needs
 * nothing else. See docs/design.md, "Schemes".
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset, ImageSplit } from '../data/cifar10';
import type { MethodParam, MethodState, ParamValues } from '../distill/method';
import { findPreset } from '../models/presets';
import { loadRunCheckpoint, saveRunCheckpoint } from '../run/runCheckpoint';
import type { RunEnd, RunPosition, YieldToHost } from '../run/runTypes';
import type { TrainConfig } from '../training/hyperparams';
import { memoryRunSlot, type RunSlot } from '../training/savedRuns';
import { createOptimizer, evaluateModel, initialTrainerState } from '../training/trainer';
import {
  type JointLoss,
  type Member,
  type MultiEpochLog,
  type MultiStepLog,
  MultiTrainer,
} from './multiTrainer';

export interface MultiSchemeInstance {
  readonly loss: JointLoss;
  /** Variables trained with a member's optimizer besides its model's, by member name. */
  readonly extra: Readonly<Record<string, readonly tf.Variable[]>>;
  /** What each member's checkpoint keeps of the scheme, by member name. */
  state(): Promise<Record<string, MethodState>>;
  restore(state: Readonly<Record<string, MethodState>>): void;
  dispose(): void;
}

/** A scheme over several models trained together: its parameters and its joint loss. */
export interface MultiSchemeDef {
  readonly id: string;
  readonly params: readonly MethodParam[];
  create(
    members: readonly Pick<Member, 'name' | 'model' | 'config'>[],
    params: ParamValues,
  ): MultiSchemeInstance;
}

export interface MemberSpec {
  readonly name: string;
  readonly config: TrainConfig;
  /** The seed of its initial weights (the batches follow the shared `config.seed`). */
  readonly initSeed: number;
}

export interface MultiSpec {
  readonly scheme: MultiSchemeDef;
  readonly params: ParamValues;
  readonly members: readonly MemberSpec[];
}

/** Where a scheme's checkpoints live: a slot per model or stage, and the scheme's manifest. */
export interface SchemeStorage {
  slot(name: string): RunSlot;
  readManifest(): Promise<string | null>;
  writeManifest(text: string): Promise<void>;
}

export function memorySchemeStorage(): SchemeStorage {
  const slots = new Map<string, RunSlot>();
  let manifest: string | null = null;
  return {
    slot(name) {
      if (!slots.has(name)) slots.set(name, memoryRunSlot());
      return slots.get(name)!;
    },
    readManifest: async () => manifest,
    writeManifest: async (text) => {
      manifest = text;
    },
  };
}

export interface MultiListener {
  step(log: MultiStepLog): void;
  epoch(log: MultiEpochLog): void;
  boundary(position: RunPosition): void;
  saved?(position: RunPosition): void;
}

interface Manifest {
  readonly format: 'distillery-scheme';
  readonly kind: string;
  readonly params: ParamValues;
  readonly members: readonly MemberSpec[];
  readonly datasetId: string;
}

export class MultiRun {
  private request: 'pause' | 'stop' | null = null;
  private running = false;
  private ended = false;
  private lastSave: number;
  private readonly now: () => number;

  private constructor(
    readonly spec: MultiSpec,
    readonly members: readonly Member[],
    private readonly instance: MultiSchemeInstance,
    private readonly trainer: MultiTrainer,
    private readonly dataset: Dataset,
    private readonly storage: SchemeStorage,
    private readonly checkpointMs: number,
    now?: () => number,
  ) {
    this.now = now ?? (() => performance.now());
    this.lastSave = this.now();
  }

  private static async assemble(
    spec: MultiSpec,
    dataset: Dataset,
    storage: SchemeStorage,
    options: { checkpointSeconds?: number; now?: () => number },
    resume?: (member: MemberSpec) => Promise<{
      model: tf.LayersModel;
      slots: { name: string; tensor: tf.Tensor }[];
      state: Member['state'];
      methodState: MethodState;
    }>,
  ): Promise<MultiRun> {
    if (dataset.train.count === 0) throw new Error(`${dataset.name} has no training images`);
    const built: Member[] = [];
    const methodStates: Record<string, MethodState> = {};
    let instance: MultiSchemeInstance | null = null;
    try {
      for (const m of spec.members) {
        const optimizer = createOptimizer(m.config);
        if (resume) {
          const saved = await resume(m);
          built.push({
            name: m.name,
            model: saved.model,
            config: m.config,
            optimizer,
            extra: [],
            state: saved.state,
          });
          methodStates[m.name] = saved.methodState;
          await optimizer.setWeights(saved.slots);
          tf.dispose(saved.slots.map((s) => s.tensor));
        } else {
          const model = findPreset(m.config.model).build(m.initSeed);
          built.push({
            name: m.name,
            model,
            config: m.config,
            optimizer,
            extra: [],
            state: initialTrainerState(),
          });
        }
      }
      instance = spec.scheme.create(built, spec.params);
      if (resume) instance.restore(methodStates);
      const members = built.map((m) => ({ ...m, extra: instance!.extra[m.name] ?? [] }));
      const trainer = new MultiTrainer(members, dataset, instance.loss);
      return new MultiRun(
        spec,
        members,
        instance,
        trainer,
        dataset,
        storage,
        (options.checkpointSeconds ?? 30) * 1000,
        options.now,
      );
    } catch (error) {
      instance?.dispose();
      for (const m of built) {
        m.model.dispose();
        m.optimizer.dispose();
      }
      throw error;
    }
  }

  /** A fresh run: every model built from its preset and seed; the storage's manifest is replaced. */
  static async start(
    spec: MultiSpec,
    dataset: Dataset,
    storage: SchemeStorage,
    options: { checkpointSeconds?: number; now?: () => number } = {},
  ): Promise<MultiRun> {
    const run = await MultiRun.assemble(spec, dataset, storage, options);
    const manifest: Manifest = {
      format: 'distillery-scheme',
      kind: spec.scheme.id,
      params: spec.params,
      members: spec.members,
      datasetId: dataset.id,
    };
    await storage.writeManifest(JSON.stringify(manifest));
    return run;
  }

  /** The run saved in `storage`, every model at its checkpoint; `schemes` resolves the manifest's kind. */
  static async restore(
    storage: SchemeStorage,
    dataset: Dataset,
    schemes: readonly MultiSchemeDef[],
    options: { checkpointSeconds?: number; now?: () => number } = {},
  ): Promise<MultiRun> {
    const text = await storage.readManifest();
    if (!text) throw new Error('no saved scheme run here (its manifest is missing)');
    const manifest = JSON.parse(text) as Manifest;
    const scheme = schemes.find((s) => s.id === manifest.kind);
    if (manifest.format !== 'distillery-scheme' || !scheme)
      throw new Error(`the manifest names no multi-model scheme (kind ${String(manifest.kind)})`);
    if (manifest.datasetId !== dataset.id)
      throw new Error(`the saved scheme run trains on dataset ${manifest.datasetId}, not on ${dataset.name}`);
    const spec: MultiSpec = { scheme, params: manifest.params, members: manifest.members };
    return MultiRun.assemble(spec, dataset, storage, options, async (m) => {
      const saved = await loadRunCheckpoint(storage.slot(m.name));
      return {
        model: saved.model,
        slots: saved.optimizerSlots,
        state: saved.run.state,
        methodState: saved.methodState,
      };
    });
  }

  get state() {
    return this.trainer.state;
  }

  get isFinished(): boolean {
    return this.ended || this.state.epoch >= this.trainer.config.epochs;
  }

  position(): RunPosition {
    const { config } = this.trainer;
    return {
      completedEpochs: this.state.epoch,
      stepInEpoch: this.state.stepInEpoch,
      stepsPerEpoch: this.trainer.stepsPerEpoch,
      epochs: config.epochs,
      batchSize: config.batchSize,
      trainCount: this.dataset.train.count,
    };
  }

  /** Top-1 accuracy of each model now on a split, by name. */
  async evaluate(split: ImageSplit): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const m of this.members)
      out[m.name] = (await evaluateModel(m.model, split, m.config.batchSize)).accuracy;
    return out;
  }

  async run(listener: MultiListener, yieldToHost: YieldToHost): Promise<RunEnd> {
    if (this.running) throw new Error(`the ${this.spec.scheme.id} run is already training`);
    if (this.isFinished) throw new Error(`the ${this.spec.scheme.id} run has ended; start a new one`);
    this.running = true;
    this.request = null;
    try {
      this.lastSave = this.now();
      const outcome = await this.trainer.run({
        onStep: (log) => listener.step(log),
        onEpoch: async (log) => {
          listener.epoch(log);
          listener.boundary(this.position());
          await this.save(listener);
        },
        shouldStop: async () => {
          listener.boundary(this.position());
          if (this.saveDue()) await this.save(listener);
          await yieldToHost();
          return this.request !== null;
        },
      });
      listener.boundary(this.position());
      if (outcome.kind === 'done') {
        this.ended = true;
        return outcome;
      }
      if (outcome.kind === 'stopped') {
        await this.save(listener);
        if (this.request === 'stop') {
          this.ended = true;
          return { kind: 'stopped' };
        }
        return { kind: 'paused' };
      }
      this.ended = true;
      return {
        ...outcome,
        message: `The ${this.spec.scheme.id} run's loss term "${outcome.term}" is not finite at epoch ${outcome.epoch}, step ${outcome.step}; training stopped, and each model's last good checkpoint is kept (resume from it with a lower learning rate).`,
        resumable: false,
      };
    } finally {
      this.running = false;
    }
  }

  requestPause(): void {
    if (this.running) this.request ??= 'pause';
  }

  stop(): void {
    if (this.running) this.request = 'stop';
    else this.ended = true;
  }

  dispose(): void {
    this.ended = true;
    this.instance.dispose();
    for (const m of this.members) {
      m.model.dispose();
      m.optimizer.dispose();
    }
  }

  private saveDue(): boolean {
    if (this.now() - this.lastSave < this.checkpointMs) return false;
    const { steps, epoch, stepInEpoch } = this.state;
    const last = steps[steps.length - 1];
    return stepInEpoch > 0 && last !== undefined && last.epoch === epoch + 1 && last.step === stepInEpoch;
  }

  /** A checkpoint of every model, each in its own slot. */
  private async save(listener?: MultiListener): Promise<void> {
    const states = await this.instance.state();
    for (const m of this.members)
      await saveRunCheckpoint(this.storage.slot(m.name), {
        model: m.model,
        optimizer: m.optimizer,
        config: m.config,
        state: m.state,
        method: { method: this.spec.scheme.id, params: this.spec.params, labelledFraction: 1, teacher: null },
        methodState: states[m.name] ?? {},
        context: { datasetId: this.dataset.id, datasetName: this.dataset.name },
      });
    this.lastSave = this.now();
    listener?.saved?.(this.position());
  }
}
