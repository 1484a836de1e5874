/**
 * The frozen teacher's forward pass, made cheaper than `teacher.apply(x, { training: false })`: every
 * convolution followed by an inference BatchNormalization (and optionally a ReLU) runs as one fused conv with
 * the BatchNorm folded into its weights and bias, W' = W * s, b' = (b - movingMean) * s + beta with
 * s = gamma / sqrt(movingVariance + eps), so XNNPACK applies bias and ReLU in its own pass instead of two more
 * passes over each feature map. Every other layer runs as tfjs-layers runs it. Same outputs, in the same order,
 * up to float rounding (tested; docs/design.md §5, wasm training kernels and the teacher pass).
 *
 * The folded weights are a snapshot taken by `freezeTeacher`: a distillation never trains its teacher, and the
 * method instance that freezes it also disposes the snapshot. Callers still run it under `stopGradient`.
 */
import * as tf from '@tensorflow/tfjs';

/** A teacher prepared for inference: `run` returns the model's outputs for a batch; `dispose` frees the folds. */
export interface FrozenTeacher {
  run(images: tf.Tensor): tf.Tensor[];
  /** How many conv + BatchNorm pairs were folded (0: the model runs layer by layer as it is). */
  readonly folded: number;
  dispose(): void;
}

interface FoldedConv {
  readonly kind: 'conv';
  readonly input: number;
  readonly filter: tf.Tensor4D;
  readonly bias: tf.Tensor1D;
  readonly strides: [number, number];
  readonly pad: 'same' | 'valid';
  readonly dilations: [number, number];
  readonly activation: 'linear' | 'relu';
}

interface LayerCall {
  readonly kind: 'layer';
  readonly inputs: number[];
  readonly layer: tf.layers.Layer;
  readonly outputIndex: number;
}

type Step = { readonly id: number } & (FoldedConv | LayerCall);

const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v ?? 1), Number(v ?? 1)];

const weightNamed = (layer: tf.layers.Layer, name: string): tf.Tensor | undefined =>
  layer.weights.find((w) => w.originalName.endsWith(`/${name}`))?.read();

/** The folded conv for conv -> BatchNorm, or null when the pair is not the plain kind this folds. */
function foldConvBn(conv: tf.layers.Layer, bn: tf.layers.Layer, input: number, relu: boolean) {
  const c = conv.getConfig();
  const b = bn.getConfig();
  const lastAxis = b.axis === -1 || b.axis === 3;
  if (c.dataFormat !== 'channelsLast' || c.activation !== 'linear' || !lastAxis) return null;
  if (c.padding !== 'same' && c.padding !== 'valid') return null;
  const kernel = weightNamed(conv, 'kernel');
  const mean = weightNamed(bn, 'moving_mean');
  const variance = weightNamed(bn, 'moving_variance');
  if (kernel?.rank !== 4 || !mean || !variance) return null;
  const { filter, bias } = tf.tidy(() => {
    const gamma = weightNamed(bn, 'gamma');
    const beta = weightNamed(bn, 'beta');
    const convBias = c.useBias ? weightNamed(conv, 'bias') : undefined;
    const invStd = tf.rsqrt(tf.add(variance, Number(b.epsilon)));
    const scale = gamma ? tf.mul(gamma, invStd) : invStd;
    const shift = tf.mul(convBias ? tf.sub(convBias, mean) : tf.neg(mean), scale);
    return {
      filter: tf.mul(kernel, scale) as tf.Tensor4D,
      bias: (beta ? tf.add(shift, beta) : shift) as tf.Tensor1D,
    };
  });
  const fold: FoldedConv = {
    kind: 'conv',
    input,
    filter,
    bias,
    strides: pair(c.strides),
    pad: c.padding,
    dilations: pair(c.dilationRate),
    activation: relu ? 'relu' : 'linear',
  };
  return fold;
}

const isRelu = (layer: tf.layers.Layer) => {
  const config = layer.getConfig();
  const name = layer.getClassName();
  return (
    (name === 'ReLU' && config.maxValue == null) || (name === 'Activation' && config.activation === 'relu')
  );
};

/** Prepares `model` for inference-only runs; see the file header. */
export function freezeTeacher(model: tf.LayersModel): FrozenTeacher {
  const inputIds = model.inputs.map((t) => t.id);
  const outputIds = model.outputs.map((t) => t.id);
  if (inputIds.length !== 1) throw new Error(`the teacher must take one input; it takes ${inputIds.length}`);

  // The graph of symbolic tensors reachable from the outputs, in topological order, and each one's consumers.
  const order: tf.SymbolicTensor[] = [];
  const seen = new Set<number>();
  const consumers = new Map<number, number>();
  const visit = (t: tf.SymbolicTensor) => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    if (!inputIds.includes(t.id)) {
      for (const i of t.inputs) {
        consumers.set(i.id, (consumers.get(i.id) ?? 0) + 1);
        visit(i);
      }
    }
    order.push(t);
  };
  model.outputs.forEach(visit);
  // A tensor that only feeds the next layer of a fold need not exist on its own.
  const internal = (t: tf.SymbolicTensor) => consumers.get(t.id) === 1 && !outputIds.includes(t.id);
  const single = (t: tf.SymbolicTensor) => (t.inputs.length === 1 ? t.inputs[0]! : undefined);

  const steps: Step[] = [];
  const skipped = new Set<number>();
  let folded = 0;
  try {
    for (const t of [...order].reverse()) {
      // From the outputs back: a ReLU over a BatchNorm over a conv, or a BatchNorm over a conv.
      if (skipped.has(t.id) || inputIds.includes(t.id)) continue;
      const reluIn = isRelu(t.sourceLayer) ? single(t) : undefined;
      const bnOut =
        reluIn && internal(reluIn) && reluIn.sourceLayer.getClassName() === 'BatchNormalization' ? reluIn : t;
      if (bnOut.sourceLayer.getClassName() !== 'BatchNormalization') continue;
      const convOut = single(bnOut);
      if (!convOut || !internal(convOut) || convOut.sourceLayer.getClassName() !== 'Conv2D') continue;
      const convIn = single(convOut);
      if (!convIn) continue;
      const fold = foldConvBn(convOut.sourceLayer, bnOut.sourceLayer, convIn.id, bnOut !== t);
      if (!fold) continue;
      steps.push({ id: t.id, ...fold });
      folded++;
      skipped.add(convOut.id);
      if (bnOut !== t) skipped.add(bnOut.id);
    }
  } catch (error) {
    disposeSteps(steps);
    throw error;
  }
  const foldedIds = new Set(steps.map((s) => s.id));
  for (const t of order) {
    if (inputIds.includes(t.id) || skipped.has(t.id) || foldedIds.has(t.id)) continue;
    steps.push({
      id: t.id,
      kind: 'layer',
      inputs: t.inputs.map((i) => i.id),
      layer: t.sourceLayer,
      outputIndex: t.outputTensorIndex ?? 0,
    });
  }
  // Topological order: the position of each step's tensor in `order`.
  const rank = new Map(order.map((t, i) => [t.id, i]));
  steps.sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);

  return {
    folded,
    run(images) {
      return tf.tidy(() => {
        const values = new Map<number, tf.Tensor>([[inputIds[0]!, images]]);
        const get = (id: number) => {
          const v = values.get(id);
          if (!v) throw new Error(`frozen teacher: tensor ${id} is used before it is computed`);
          return v;
        };
        for (const step of steps) {
          if (step.kind === 'conv') {
            values.set(
              step.id,
              tf.fused.conv2d({
                x: get(step.input) as tf.Tensor4D,
                filter: step.filter,
                bias: step.bias,
                strides: step.strides,
                pad: step.pad,
                dilations: step.dilations,
                activation: step.activation,
              }),
            );
          } else {
            const args = step.inputs.map(get);
            const out = step.layer.apply(args.length === 1 ? args[0]! : args, { training: false });
            values.set(
              step.id,
              Array.isArray(out) ? (out[step.outputIndex] as tf.Tensor) : (out as tf.Tensor),
            );
          }
        }
        return outputIds.map(get);
      });
    },
    dispose: () => disposeSteps(steps),
  };
}

function disposeSteps(steps: readonly Step[]): void {
  for (const step of steps) if (step.kind === 'conv') tf.dispose([step.filter, step.bias]);
}
