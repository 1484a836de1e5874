/**
 * How methods are put together. A method is one or more COMPONENTS (KD, AKD, CRD...) plus one cross-entropy:
 * the student and the teacher run once per batch, every component turns their outputs into named terms and its
 * weighted share of the objective, and
 *
 *   total = ceWeight * CE + sum of the components' weighted terms (+ weight decay when the context asks).
 *
 * A method alone keeps its components' term names (`soft`, `l1`); a combination prefixes them with the
 * component's id (`kd.soft`, `akd.l1`), except a term named like its component (`akd`, `crd`), which keeps it.
 * CE uses only the labelled images of a batch (mean over them; 0 when there are none); the distillation terms use
 * every image. Where a component needs a class for an unlabelled image (DKD's target class, AKD's anchor
 * classes), it takes the teacher's prediction.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExtraParameters, LossFunction, LossTerms } from '../../training/trainer';
import { freezeTeacher } from '../frozenTeacher';
import { checkOutputs, onlyOutputs, outputsRead } from '../teacherOutputs';
import {
  type AnchorMasks,
  chooseLabelled,
  type DistillMethod,
  type JsonValue,
  type MethodContext,
  type MethodInstance,
  type MethodParam,
  type MethodState,
  type ParamValues,
  stopGradient,
  validateParams,
} from '../method';
import { weightDecayTerm } from '../../training/weightDecay';

/** What a component sees of one batch; every tensor here is owned by the caller's tidy. */
export interface BatchView {
  readonly images: tf.Tensor4D;
  readonly indices: readonly number[];
  readonly training: boolean;
  /** The student's outputs: [logits, features, stage1, stage2, ...]. */
  readonly student: readonly tf.Tensor[];
  /**
   * The teacher's outputs (inference mode, constants to the gradient); same layout, but only those the method's
   * components declare (Component.teacherOutputs; the logits always): the others are holes.
   */
  readonly teacher: readonly tf.Tensor[];
  /** Float 1/0 per image: labelled or not. */
  readonly labelled: tf.Tensor1D;
  /** int32 class per image: the label where labelled, the teacher's predicted class elsewhere. */
  readonly targets: tf.Tensor1D;
}

export interface ComponentOutput {
  /** Raw (unweighted) named terms, for the curves. */
  readonly terms: Record<string, tf.Scalar>;
  /** This component's share of `total`. */
  readonly weighted: tf.Scalar;
}

/** A component bound to a student, teacher and split. */
export interface Component {
  forward(batch: BatchView): ComponentOutput;
  /**
   * Which of the teacher's outputs its forward reads (0 logits, 1 features, 2... stage maps); every one when
   * left out. The others are absent from the BatchView, and a teacher on another thread sends only these
   * (teacherAhead.ts): the stage maps are most of the data.
   */
  readonly teacherOutputs?: readonly number[];
  /** Variables trained with the student's optimizer (regressors, embedding heads). */
  readonly withModel?: readonly tf.Variable[];
  /** Of `withModel`, those that get weight decay (kernels, not biases, as crossEntropyLoss does). */
  readonly kernels?: readonly tf.Variable[];
  readonly ownGroups?: ExtraParameters['ownGroups'];
  describe?(): Promise<JsonValue>;
  /** Anchors with learned masks (AKD); the spec then sets `learnsAnchorMasks`. */
  anchorMasks?(): Promise<AnchorMasks>;
  state?(): Promise<MethodState>;
  restore?(state: MethodState): void;
  dispose?(): void;
}

/** What a component is created from: the method's context, plus what the composition works out once. */
export interface ComponentContext extends MethodContext {
  /** By training-record index: 1 = labelled (chooseLabelled). */
  readonly labelled: Uint8Array;
  readonly numClasses: number;
  readonly stepsPerEpoch: number;
}

export interface ComponentSpec {
  readonly id: string;
  readonly params: readonly MethodParam[];
  create(context: ComponentContext, params: ParamValues): Promise<Component>;
  /** The CE weight when this component is the whole method (KD: 1 - alpha); 1 when left out. */
  ceWeight?(params: ParamValues): number;
  /** Its components have anchors with learned masks (Component.anchorMasks). */
  readonly learnsAnchorMasks?: boolean;
  /** What its set-up does before the first step when that takes a while (the method's `setupNote`). */
  readonly setupNote?: string;
}

/** Cross-entropy of the labelled images only: mean over them, 0 when the batch has none. */
export function labelledCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  labelled: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const perImage = tf.neg(tf.sum(tf.mul(tf.oneHot(labels, logits.shape[1]), tf.logSoftmax(logits)), 1));
    return tf.div(tf.sum(tf.mul(perImage, labelled)), tf.maximum(tf.sum(labelled), 1)) as tf.Scalar;
  });
}

/** The keys of `state` under `prefix/`, without it. */
function unprefixState(state: MethodState, prefix: string): MethodState {
  const start = `${prefix}/`;
  return Object.fromEntries(
    Object.entries(state)
      .filter(([key]) => key.startsWith(start))
      .map(([key, value]) => [key.slice(start.length), value]),
  );
}

interface Part {
  readonly spec: ComponentSpec;
  readonly params: ParamValues;
}

/**
 * Builds an instance: `parts` are the method's components (none for plain CE), `prefixTerms` whether their term
 * names get their component's id (combinations).
 */
async function buildInstance(
  context: MethodContext,
  parts: readonly Part[],
  ceWeight: number,
  prefixTerms: boolean,
): Promise<MethodInstance> {
  const { student, teacher, train } = context;
  const numClasses = student.outputs[0]!.shape[1] as number;
  const teacherClasses = teacher.outputs[0]!.shape[1] as number;
  if (parts.length && teacherClasses !== numClasses)
    throw new Error(`the teacher has ${teacherClasses} classes and the student ${numClasses}`);
  const labelled = chooseLabelled(train.labels, context.labelledFraction, context.seed);
  const componentContext: ComponentContext = {
    ...context,
    labelled,
    numClasses,
    stepsPerEpoch: Math.max(1, Math.ceil(train.count / context.batchSize)),
  };
  const components: { id: string; component: Component }[] = [];
  try {
    for (const part of parts)
      components.push({ id: part.spec.id, component: await part.spec.create(componentContext, part.params) });
  } catch (error) {
    components.forEach(({ component }) => component.dispose?.());
    throw error;
  }
  // The teacher's pass with its BatchNorms folded into its convs (frozenTeacher.ts); plain CE never runs it.
  const frozenTeacher = components.length ? freezeTeacher(teacher) : null;
  const teacherOutputs = components.length
    ? outputsRead(
        components.map(({ component }) => component.teacherOutputs),
        teacher.outputs.length,
      )
    : [];

  const weightDecay = context.weightDecay ?? 0;
  // originalName, not name: a model built twice in a process gets suffixed names (see crossEntropyLoss).
  const kernels = [
    ...student.trainableWeights.filter((w) => w.originalName.endsWith('/kernel')).map((w) => w.read()),
    ...components.flatMap(({ component }) => component.kernels ?? []),
  ];
  const termName = (id: string, name: string) => (prefixTerms && name !== id ? `${id}.${name}` : name);

  const loss: LossFunction = ({ images, labels, indices, training, teacher: given }) =>
    tf.tidy(() => {
      if (indices.length !== images.shape[0])
        throw new Error(`a batch of ${images.shape[0]} images came with ${indices.length} record indices`);
      const mask = Float32Array.from(indices, (i) => {
        if (!(i >= 0 && i < labelled.length))
          throw new RangeError(`record index ${i} is outside the training split (0..${labelled.length - 1})`);
        return labelled[i]!;
      });
      const studentOut = student.apply(images, { training }) as tf.Tensor[];
      if (given) checkOutputs(given, teacherOutputs);
      const teacherOut =
        given ??
        (frozenTeacher ? stopGradient(() => onlyOutputs(frozenTeacher.run(images), teacherOutputs)) : []);
      const logits = studentOut[0] as tf.Tensor2D;
      const labelledTensor = tf.tensor1d(mask);
      const targets =
        teacherOut.length && mask.some((m) => m === 0)
          ? (tf.where(tf.cast(labelledTensor, 'bool'), labels, tf.argMax(teacherOut[0]!, 1)) as tf.Tensor1D)
          : labels;
      const ce = labelledCrossEntropy(logits, labels, labelledTensor);
      const view: BatchView = {
        images,
        indices,
        training,
        student: studentOut,
        teacher: teacherOut,
        labelled: labelledTensor,
        targets,
      };
      const terms: Record<string, tf.Scalar> = { ce };
      const objective: tf.Scalar[] = [tf.mul(ce, ceWeight)];
      for (const { id, component } of components) {
        const out = component.forward(view);
        for (const [name, value] of Object.entries(out.terms)) terms[termName(id, name)] = value;
        objective.push(out.weighted);
      }
      if (weightDecay > 0 && kernels.length) {
        const decay = weightDecayTerm(kernels, weightDecay);
        terms.weightDecay = decay;
        objective.push(decay);
      }
      const total = (objective.length === 1 ? objective[0]! : tf.addN(objective)) as tf.Scalar;
      return { terms: { ...terms, total } as LossTerms, logits };
    });

  const withModel = components.flatMap(({ component }) => component.withModel ?? []);
  const ownGroups = components.flatMap(({ component }) => component.ownGroups ?? []);
  const withMasks = components.find(({ component }) => component.anchorMasks)?.component;
  let disposed = false;
  return {
    loss,
    ...(frozenTeacher ? { teacher: { model: teacher, outputs: teacherOutputs } } : {}),
    extra: {
      ...(withModel.length ? { withModel } : {}),
      ...(ownGroups.length ? { ownGroups } : {}),
    },
    labelled,
    async describe() {
      const out: Record<string, JsonValue> = {};
      for (const { id, component } of components)
        if (component.describe) out[id] = await component.describe();
      return out;
    },
    async state() {
      const out: MethodState = {};
      for (const { id, component } of components) {
        if (!component.state) continue;
        for (const [key, value] of Object.entries(await component.state())) out[`${id}/${key}`] = value;
      }
      return out;
    },
    restore(state) {
      for (const { id, component } of components) component.restore?.(unprefixState(state, id));
    },
    ...(withMasks?.anchorMasks ? { anchorMasks: () => withMasks.anchorMasks!() } : {}),
    dispose() {
      if (disposed) return;
      disposed = true;
      components.forEach(({ component }) => component.dispose?.());
      frozenTeacher?.dispose();
    },
  };
}

interface MethodInfo {
  readonly id: string;
  readonly label: string;
  readonly summary: string;
  readonly defaultsFrom: string;
  /** False for a method on the labels alone (ce); true when left out. */
  readonly needsTeacher?: boolean;
}

/** A method made of one component (or none: plain CE). */
export function singleMethod(info: MethodInfo, spec: ComponentSpec | null): DistillMethod {
  const params = spec?.params ?? [];
  const method: DistillMethod = {
    ...info,
    params,
    needsTeacher: info.needsTeacher ?? true,
    ...(spec?.setupNote ? { setupNote: spec.setupNote } : {}),
    ...(spec?.learnsAnchorMasks ? { learnsAnchorMasks: true } : {}),
    async create(context, raw = {}) {
      const values = validateParams(method, raw);
      return spec
        ? buildInstance(context, [{ spec, params: values }], spec.ceWeight?.(values) ?? 1, false)
        : buildInstance(context, [], 1, false);
    },
  };
  return method;
}

/**
 * A combination: every component's parameters under `<component id>.<name>` (e.g. `kd.temperature`), term names
 * prefixed the same way, one CE with weight `ceWeight` (RepDistiller's -r; components' own CE shares, like KD's
 * 1 - alpha, do not apply).
 */
export function combinedMethod(
  info: MethodInfo,
  specs: readonly ComponentSpec[],
  ceWeight = 1,
): DistillMethod {
  const params = specs.flatMap((spec) =>
    spec.params.map((p) => ({
      ...p,
      name: `${spec.id}.${p.name}`,
      label: `${spec.id.toUpperCase()}: ${p.label}`,
    })),
  );
  const method: DistillMethod = {
    ...info,
    params,
    needsTeacher: info.needsTeacher ?? true,
    ...(specs.some((spec) => spec.setupNote)
      ? { setupNote: specs.flatMap((spec) => spec.setupNote ?? []).join('; ') }
      : {}),
    ...(specs.some((spec) => spec.learnsAnchorMasks) ? { learnsAnchorMasks: true } : {}),
    async create(context, raw = {}) {
      const values = validateParams(method, raw);
      const parts = specs.map((spec) => ({
        spec,
        params: Object.fromEntries(spec.params.map((p) => [p.name, values[`${spec.id}.${p.name}`]!])),
      }));
      return buildInstance(context, parts, ceWeight, true);
    },
  };
  return method;
}

/**
 * The stage outputs of a model (outputs 2...), with their shapes [height, width, channels]; a method that uses
 * feature maps reads them from here.
 */
export function stageShapes(model: tf.LayersModel): [number, number, number][] {
  return model.outputs.slice(2).map((o) => {
    const shape = o.shape;
    if (shape.length !== 4) throw new Error(`${model.name}: output ${o.name} is not a feature map`);
    return [shape[1]!, shape[2]!, shape[3]!];
  });
}
