/**
 * The frozen teacher one batch ahead of the student, on another thread (issue 11; docs/design.md §5, "The
 * teacher ahead"). On wasm a distillation step is the student's step plus the teacher's forward pass on the same
 * core, while the other cores wait: on cnn-small from VGG-Fast the teacher is ~40% of a KD step. A TeacherHost
 * (a Worker in the browser) runs the teacher's pass on the next batch while the student trains on this one, and
 * hands back its outputs as arrays: the same kernels on the same inputs, so the same values as the in-process
 * pass (tested). Where no host starts, or one fails, the steps run the teacher in process as before: only the
 * speed changes, never a result.
 */
import * as tf from '@tensorflow/tfjs';
import { type InitBackendOptions, initBackend } from '../backend/initBackend';
import { type FrozenTeacher, freezeTeacher } from './frozenTeacher';

/** One of the teacher's outputs on a batch, as plain data (what crosses between threads). */
export interface TeacherOutput {
  /** Its index among the model's outputs (0 logits, 1 features, 2... stage maps). */
  readonly index: number;
  readonly shape: number[];
  readonly values: Float32Array;
}

export type ImageShape = [number, number, number, number];

/** What runs the teacher on a host's thread: the inside of the Worker, or the same object in process. */
export interface TeacherRunner {
  /** Loads a teacher (replacing any earlier one) and folds it for inference; `outputs`: which ones it returns. */
  load(artifacts: tf.io.ModelArtifacts, outputs: readonly number[]): Promise<void>;
  /** The loaded teacher's outputs at the indices given to `load`, on a batch of normalised NHWC images. */
  run(images: Float32Array, shape: ImageShape): Promise<TeacherOutput[]>;
}

/** A host's side as the trainer sees it: a runner somewhere else, and a way to stop it. */
export interface TeacherHost extends TeacherRunner {
  close(): void;
}

/** Starts a host (the browser's: a Worker); a session host supplies one where it can run threads. */
export type TeacherHostFactory = () => TeacherHost;

/**
 * A host over a runner on another thread that can die: `fail` (on the thread's error or exit) rejects every call
 * still waiting and every later one, so the trainer goes on with the teacher in line instead of waiting for an
 * answer that cannot come. `stop` ends the thread.
 */
export function hostOver(
  remote: TeacherRunner,
  stop: () => void,
): { host: TeacherHost; fail: (error: Error) => void } {
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Nobody may be waiting when it fails; the rejection still must not go unhandled.
  failed.catch(() => undefined);
  const host: TeacherHost = {
    load: (artifacts, outputs) => Promise.race([remote.load(artifacts, outputs), failed]),
    run: (images, shape) => Promise.race([remote.run(images, shape), failed]),
    close() {
      fail(new Error("the teacher's thread was closed"));
      stop();
    },
  };
  return { host, fail };
}

/**
 * What a host's thread runs: wasm started there (one thread, `options`; no other backend probed), then the
 * teacher as `load` gives it.
 */
export function wasmTeacherRunner(options: InitBackendOptions = {}): TeacherRunner {
  const ready = initBackend('wasm', { probeRequestedOnly: true, ...options }).then((report) => {
    if (report.backend !== 'wasm') throw new Error(`wasm did not start here (${report.backend} did instead)`);
  });
  const runner = teacherRunner();
  return {
    async load(artifacts, outputs) {
      await ready;
      return runner.load(artifacts, outputs);
    },
    run: (images, shape) => runner.run(images, shape),
  };
}

/** The buffers of `outputs`, to hand over (transfer) rather than copy when they cross to the trainer's thread. */
export const outputBuffers = (outputs: readonly TeacherOutput[]) => outputs.map((o) => o.values.buffer);

/** The runner a host runs: the teacher from its artifacts, frozen (frozenTeacher.ts), on the host's backend. */
export function teacherRunner(): TeacherRunner {
  let model: tf.LayersModel | null = null;
  let frozen: FrozenTeacher | null = null;
  let wanted: readonly number[] = [];
  return {
    async load(artifacts, outputs) {
      frozen?.dispose();
      model?.dispose();
      frozen = null;
      model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      frozen = freezeTeacher(model);
      wanted = [...outputs];
    },
    async run(images, shape) {
      const teacher = frozen;
      if (!teacher) throw new Error('the teacher host has no teacher loaded');
      const outs = tf.tidy(() => {
        const all = teacher.run(tf.tensor4d(images, shape));
        return wanted.map((i) => all[i]!);
      });
      try {
        const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
        return outs.map((t, i) => ({ index: wanted[i]!, shape: t.shape, values: values[i]! }));
      } finally {
        tf.dispose(outs);
      }
    },
  };
}

/** The model's artifacts (topology and weights), as a host needs them to load it. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('the teacher could not be serialised for its host');
  return saved;
}

/**
 * Requests of the teacher's outputs on batches, answered by a host. A request never rejects: after the host's
 * first failure every answer is null (the caller runs the teacher itself) and the failure is in `failure`.
 */
export class TeacherAhead {
  /** Why the host stopped answering, once it has. */
  failure: string | null = null;

  private constructor(
    private readonly host: TeacherHost,
    /** Which of the teacher's outputs each answer carries. */
    readonly outputs: readonly number[],
    private readonly release: () => void,
  ) {}

  /**
   * A host started by `factory` with `teacher` loaded, returning its outputs at `outputs`; null (and a warning)
   * where it cannot start: the caller then runs the teacher in process. `release` runs once when the teacher
   * stops running ahead (it did not start, it failed, or it was closed): it gives back the core taken for it.
   */
  static async start(
    factory: TeacherHostFactory,
    teacher: tf.LayersModel,
    outputs: readonly number[],
    release: () => void = () => undefined,
  ): Promise<TeacherAhead | null> {
    let host: TeacherHost | null = null;
    try {
      host = factory();
      await host.load(await artifactsOf(teacher), outputs);
      return new TeacherAhead(host, outputs, once(release));
    } catch (error) {
      host?.close();
      release();
      console.warn(`the teacher runs on the training thread: its host did not start (${describe(error)})`);
      return null;
    }
  }

  /** The teacher's outputs on a batch, or null once the host has failed. */
  async request(images: Float32Array, shape: ImageShape): Promise<TeacherOutput[] | null> {
    if (this.failure) return null;
    try {
      return await this.host.run(images, shape);
    } catch (error) {
      if (!this.failure) {
        this.failure = describe(error);
        this.release();
        console.warn(
          `the teacher runs on the training thread from here on: its host failed (${this.failure})`,
        );
      }
      return null;
    }
  }

  /** Stops the host; later requests (and any still waiting) answer null without a warning. */
  close(): void {
    this.failure ??= 'closed';
    this.host.close();
    this.release();
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
