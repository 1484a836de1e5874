/**
 * Training-step speed of a preset on the active backend: warm-up steps first (shader compilation, XNNPACK
 * operator set-up), then timed steps, each ending in a read of its loss so the time includes the work.
 * Shared by `npm run bench` in Node and by the Worker in the browser. Also the step of each distillation method
 * (benchmarkDistillStep), for the methods table of `npm run bench`.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from './backend/batchNormGradient';
import { setWinogradEnabled } from './backend/winogradConv';
import { wasmPoolThreads } from './backend/wasmPool';
import { loopTeamParts, setLoopTeamEnabled } from './backend/wasmTeam';
import { CIFAR10_CLASSES, type Dataset, emptySplit, IMAGE_BYTES, type ImageSplit } from './data/cifar10';
import { seededRandom } from './data/subset';
import { timedHooks } from './run/labRun';
import type { TeacherHostFactory } from './distill/teacherAhead';
import { createDistillation } from './run/runSpec';
import { validateParams } from './distill/method';
import { findMethod } from './distill/registry';
import { findPreset, flopsPerImage } from './models/presets';
import { DEFAULT_TRAIN_CONFIG, parseTrainConfig } from './training/hyperparams';
import { StepTimer } from './training/stepTimer';
import { momentumOptimizer } from './training/momentum';
import { crossEntropyLoss } from './training/trainer';

export interface StepBenchmark {
  readonly model: string;
  readonly backend: string;
  readonly batchSize: number;
  readonly parameters: number;
  readonly flopsPerImage: number;
  readonly msPerStep: number;
  readonly imagesPerSecond: number;
  readonly timedSteps: number;
  /**
   * Asked for with `kernels`: one more step under tf.profile, its kernels' ms summed by name, largest first (the
   * backend's own kernel timer: wall ms around each synchronous wasm call).
   */
  readonly kernels?: readonly { readonly name: string; readonly ms: number }[];
  /** The last step's loss: the same for the same options wherever the lab's loops ran (e2e/loopTeam.spec.ts). */
  readonly lastLoss: number;
  /** Parts of the lab's loops its loop team's helpers ran during the timed steps (wasmTeam.ts); 0 without one. */
  readonly loopTeamParts: number;
}

export interface StepBenchmarkOptions {
  batchSize?: number;
  warmupSteps?: number;
  timedSteps?: number;
  maxSeconds?: number;
  /** false: wasm's direct convolutions instead of Winograd's (scripts/bench-threads.ts --direct-conv). */
  winograd?: boolean;
  /** Also time one step per kernel (scripts/bench-threads.ts --kernels: which kernels threads speed up). */
  kernels?: boolean;
  /** false: the lab's wasm loops on the training thread alone, as without threads (scripts/bench-threads.ts --no-team). */
  loopTeam?: boolean;
}

export async function benchmarkTrainingStep(
  presetId: string,
  options: StepBenchmarkOptions = {},
): Promise<StepBenchmark> {
  const { batchSize = 64, warmupSteps = 2, timedSteps = 5, maxSeconds = 60, winograd = true } = options;
  registerFastBatchNormGradient();
  setWinogradEnabled(winograd);
  setLoopTeamEnabled(options.loopTeam ?? true);
  const model = findPreset(presetId).build(1);
  const optimizer = momentumOptimizer(0.01, 0.9);
  const loss = crossEntropyLoss(model, 5e-4);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const images = tf.randomNormal([batchSize, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([batchSize], 0, 10, 'int32', 2) as tf.Tensor1D;
  const indices = Array.from({ length: batchSize }, (_, i) => i);
  let lastLoss = Number.NaN;
  const step = async () => {
    const cost = optimizer.minimize(
      () => loss({ images, labels, indices, training: true }).terms.total,
      true,
      variables,
    )!;
    lastLoss = (await cost.data())[0]!;
    cost.dispose();
  };
  try {
    for (let i = 0; i < warmupSteps; i++) await step();
    const started = performance.now();
    const partsBefore = loopTeamParts();
    let steps = 0;
    while (steps < timedSteps && (steps === 0 || performance.now() - started < maxSeconds * 1000)) {
      await step();
      steps += 1;
    }
    const msPerStep = (performance.now() - started) / steps;
    const partsRun = loopTeamParts() - partsBefore;
    const kernels = options.kernels ? await kernelTimes(step) : undefined;
    return {
      model: presetId,
      backend: tf.getBackend(),
      batchSize,
      parameters: model.countParams(),
      flopsPerImage: flopsPerImage(model),
      msPerStep,
      imagesPerSecond: (batchSize * 1000) / msPerStep,
      timedSteps: steps,
      ...(kernels ? { kernels } : {}),
      lastLoss,
      loopTeamParts: partsRun,
    };
  } finally {
    setWinogradEnabled(true);
    setLoopTeamEnabled(true);
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

export interface DistillStepBenchmark {
  readonly method: string;
  readonly student: string;
  readonly teacher: string;
  readonly backend: string;
  readonly batchSize: number;
  /** AKD's anchors (1 per class by default); 0 for methods without. */
  readonly anchors: number;
  /** Seconds the method took to set up (AKD: anchor selection over the synthetic split). */
  readonly setupSeconds: number;
  readonly msPerStep: number;
  readonly timedSteps: number;
  /** Whether the teacher's pass ran beside the steps, on a host of its own, to the end (teacherAhead.ts). */
  readonly teacherAhead: boolean;
  /**
   * The loss terms of the last step: the same for the same options wherever the teacher ran (tests compare
   * them across the teacher's placements).
   */
  readonly lastTerms: Readonly<Record<string, number>>;
  /** wasm: the threads its kernels ran on in the last step (fewer than the pool's where the teacher took one). */
  readonly wasmThreads: number | null;
  /** Parts of the lab's loops its loop team's helpers ran, warm-up included (wasmTeam.ts); 0 without one. */
  readonly loopTeamParts: number;
}

/** One run of `step` under tf.profile: ms per kernel name, summed, largest first. */
async function kernelTimes(step: () => Promise<void>): Promise<{ name: string; ms: number }[]> {
  const info = await tf.profile(step);
  const byName = new Map<string, number>();
  for (const kernel of info.kernels) {
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    byName.set(kernel.name, (byName.get(kernel.name) ?? 0) + ms);
  }
  return [...byName].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

/**
 * A synthetic, class-balanced training split of `count` random images (timing only: the values do not matter,
 * the shapes and the label layout do).
 */
function syntheticSplit(count: number, seed: number): ImageSplit {
  const random = seededRandom(`bench/${seed}`);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(random() * 256);
  return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count };
}

/**
 * One distillation method's training step, as the lab runs it: the real Trainer with the method's loss and
 * extra parameters (AKD's masks and their optimizer), augmentation on, the loss terms read back every step.
 * The teacher is `teacherPreset` with seeded random weights (timing does not depend on them). The split holds
 * exactly the steps run (warm-up + timed) and the test split is empty, so no evaluation is timed.
 */
export async function benchmarkDistillStep(
  methodId: string,
  options: {
    student?: string;
    teacherPreset?: string;
    batchSize?: number;
    warmupSteps?: number;
    timedSteps?: number;
    maxSeconds?: number;
    params?: Readonly<Record<string, number>>;
    /** The clock the steps are timed by, in ms: wall time unless the host gives another (the bench: CPU time). */
    clock?: () => number;
    /** Where the teacher's pass may run beside the student's step (runSpec.ts DistillationOptions). */
    teacherHost?: TeacherHostFactory;
  } = {},
): Promise<DistillStepBenchmark> {
  const {
    student = 'cnn-small',
    teacherPreset = 'vgg-fast',
    batchSize = 64,
    warmupSteps = 2,
    timedSteps = 5,
    maxSeconds = 60,
    params = {},
    clock = () => performance.now(),
    teacherHost,
  } = options;
  registerFastBatchNormGradient();
  const method = findMethod(methodId);
  const train = parseTrainConfig({
    ...DEFAULT_TRAIN_CONFIG,
    role: 'student',
    model: student,
    epochs: 1,
    batchSize,
    logEvery: 1,
  });
  const dataset: Dataset = {
    id: 'bench',
    name: 'synthetic benchmark split',
    classNames: [...CIFAR10_CLASSES],
    train: syntheticSplit(batchSize * (warmupSteps + timedSteps), 1),
    test: emptySplit(),
  };
  const teacher = findPreset(teacherPreset).build(1);
  try {
    const distillation = await createDistillation(
      { method: method.id, params: validateParams(method, params), labelledFraction: 1, train },
      dataset,
      { model: teacher },
      undefined,
      teacherHost ? { teacherHost } : {},
    );
    try {
      // Methods with learned anchor masks say so; their anchors are counted through the interface, by no name.
      const anchors = method.learnsAnchorMasks
        ? ((await distillation.instance.anchorMasks?.())?.anchors.indices.length ?? 0)
        : 0;
      const timer = new StepTimer(clock, warmupSteps);
      const begun = performance.now();
      const partsBefore = loopTeamParts();
      let lastTerms: Readonly<Record<string, number>> = {};
      let wasmThreads: number | null = null;
      await distillation.trainer.run(
        timedHooks(timer, {
          onStep: (log) => {
            lastTerms = log.terms;
            wasmThreads = tf.getBackend() === 'wasm' ? wasmPoolThreads(tf.backend() as BackendWasm) : null;
          },
          atBoundary: () => timer.measuredSteps > 0 && performance.now() - begun > maxSeconds * 1000,
        }),
      );
      if (timer.msPerStep === null) throw new Error(`${methodId}: no step was timed`);
      return {
        method: method.id,
        student,
        teacher: teacherPreset,
        backend: tf.getBackend(),
        batchSize,
        anchors,
        setupSeconds: distillation.setupSeconds,
        msPerStep: timer.msPerStep,
        timedSteps: timer.measuredSteps,
        teacherAhead: distillation.trainer.teacherAhead?.failure === null,
        lastTerms,
        wasmThreads,
        loopTeamParts: loopTeamParts() - partsBefore,
      };
    } finally {
      distillation.dispose();
    }
  } finally {
    teacher.dispose();
  }
}
