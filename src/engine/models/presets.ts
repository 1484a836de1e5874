/**
 * Model presets. Every model is a tfjs-layers functional model with outputs, in this order:
 *   [logits, features (penultimate pooled vector), stage1, stage2, ...] (per-stage feature maps),
 * because distillation methods need more than logits. Layer names are stable ('logits', 'features',
 * 'stage1'...), so a saved logits-only model can be re-opened with all its outputs (see `withAllOutputs`).
 * Weight initialisation is seeded per layer, so a seed fixes the whole network.
 */
import * as tf from '@tensorflow/tfjs';

export type ModelRole = 'teacher' | 'student';

export interface ModelPreset {
  readonly id: string;
  readonly role: ModelRole;
  readonly label: string;
  readonly description: string;
  readonly build: (seed: number) => tf.LayersModel;
}

const NUM_CLASSES = 10;
const INPUT_SHAPE = [32, 32, 3];

/** Builds layers with initialisers seeded from one seed, in creation order. */
class Builder {
  private count = 0;
  constructor(private readonly seed: number) {}

  private nextSeed(): number {
    this.count += 1;
    return (this.seed * 1_000_003 + this.count * 7919) % 2_147_483_647;
  }

  conv(
    x: tf.SymbolicTensor,
    filters: number,
    opts: { stride?: number; kernel?: number; name?: string } = {},
  ) {
    return tf.layers
      .conv2d({
        filters,
        kernelSize: opts.kernel ?? 3,
        strides: opts.stride ?? 1,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: this.nextSeed() }),
        ...(opts.name ? { name: opts.name } : {}),
      })
      .apply(x) as tf.SymbolicTensor;
  }

  bn(x: tf.SymbolicTensor, name?: string) {
    // Keras' default momentum 0.99 lags badly in short browser runs; 0.9 matches PyTorch's 0.1.
    return tf.layers
      .batchNormalization({ momentum: 0.9, epsilon: 1e-5, ...(name ? { name } : {}) })
      .apply(x) as tf.SymbolicTensor;
  }

  relu(x: tf.SymbolicTensor, name?: string) {
    return tf.layers.reLU(name ? { name } : {}).apply(x) as tf.SymbolicTensor;
  }

  convBnRelu(x: tf.SymbolicTensor, filters: number, stride = 1, name?: string) {
    return this.relu(this.bn(this.conv(x, filters, { stride })), name);
  }

  /** A ResNet basic block; a 1x1 strided conv + BN on the shortcut when the shape changes (option B). */
  basicBlock(x: tf.SymbolicTensor, filters: number, stride: number, name?: string) {
    const inChannels = x.shape[3];
    let out = this.convBnRelu(x, filters, stride);
    out = this.bn(this.conv(out, filters));
    const shortcut =
      stride !== 1 || inChannels !== filters ? this.bn(this.conv(x, filters, { stride, kernel: 1 })) : x;
    return this.relu(tf.layers.add().apply([out, shortcut]) as tf.SymbolicTensor, name);
  }

  maxPool(x: tf.SymbolicTensor) {
    return tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  }

  /** Global average pooling of the last stage as the feature vector, then the classifier. */
  head(stages: tf.SymbolicTensor[], input: tf.SymbolicTensor, name: string) {
    const last = stages[stages.length - 1]!;
    const features = tf.layers.globalAveragePooling2d({ name: 'features' }).apply(last) as tf.SymbolicTensor;
    return this.classifier(features, stages, input, name);
  }

  classifier(
    features: tf.SymbolicTensor,
    stages: tf.SymbolicTensor[],
    input: tf.SymbolicTensor,
    name: string,
  ) {
    const logits = tf.layers
      .dense({
        units: NUM_CLASSES,
        name: 'logits',
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed() }),
      })
      .apply(features) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: [logits, features, ...stages], name });
  }
}

const input = () => tf.input({ shape: INPUT_SHAPE, name: 'image' });

function resnet(seed: number, name: string, widths: readonly number[], blocksPerStage: number) {
  const b = new Builder(seed);
  const x = input();
  let h = b.convBnRelu(x, widths[0]!);
  const stages: tf.SymbolicTensor[] = [];
  widths.forEach((width, s) => {
    for (let i = 0; i < blocksPerStage; i++) {
      const last = i === blocksPerStage - 1;
      h = b.basicBlock(h, width, s > 0 && i === 0 ? 2 : 1, last ? `stage${s + 1}` : undefined);
    }
    stages.push(h);
  });
  return b.head(stages, x, name);
}

/** VGG-style: conv-BN-ReLU stacks, max-pool between stages, global average pooling. */
function vgg(seed: number, name: string, stagesSpec: readonly (readonly number[])[]) {
  const b = new Builder(seed);
  const x = input();
  let h: tf.SymbolicTensor = x;
  const stages: tf.SymbolicTensor[] = [];
  stagesSpec.forEach((widths, s) => {
    if (s > 0) h = b.maxPool(h);
    widths.forEach((width, i) => {
      h = b.convBnRelu(h, width, 1, i === widths.length - 1 ? `stage${s + 1}` : undefined);
    });
    stages.push(h);
  });
  return b.head(stages, x, name);
}

/**
 * The small plain student of DESIGN.md (33.8k parameters): three 3x3 conv + ReLU layers (16, 32, 64), each
 * followed by 2x2 max-pooling, no BatchNorm; the flattened 4x4x64 map is its feature vector.
 */
function plainCnn(seed: number) {
  const b = new Builder(seed);
  const x = input();
  const stages: tf.SymbolicTensor[] = [];
  let h: tf.SymbolicTensor = x;
  [16, 32, 64].forEach((width, s) => {
    h = tf.layers
      .conv2d({
        filters: width,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed * 31 + s }),
        name: `stage${s + 1}`,
      })
      .apply(h) as tf.SymbolicTensor;
    stages.push(h);
    h = b.maxPool(h);
  });
  const features = tf.layers.flatten({ name: 'features' }).apply(h) as tf.SymbolicTensor;
  return b.classifier(features, stages, x, 'cnn-small');
}

export const MODEL_PRESETS: readonly ModelPreset[] = [
  {
    id: 'vgg-bn',
    role: 'teacher',
    label: 'VGG-BN (0.57M)',
    description:
      'VGG-style, 6 conv-BN-ReLU layers (32, 64, 64, 128, 128, 256), max-pooling, global average pool',
    build: (seed) => vgg(seed, 'vgg-bn', [[32], [64, 64], [128, 128], [256]]),
  },
  {
    id: 'vgg-fast',
    role: 'teacher',
    label: 'VGG-Fast (0.39M)',
    description:
      'VGG-style, 4 conv-BN-ReLU layers (32, 64, 128, 256) with max-pooling: the cheapest teacher to train on a CPU',
    build: (seed) => vgg(seed, 'vgg-fast', [[32], [64], [128], [256]]),
  },
  {
    id: 'resnet20',
    role: 'teacher',
    label: 'ResNet-20 (0.27M)',
    description: 'ResNet-20 of He et al. for CIFAR: 3 stages (16, 32, 64) of 3 basic blocks',
    build: (seed) => resnet(seed, 'resnet20', [16, 32, 64], 3),
  },
  {
    id: 'cnn-small',
    role: 'student',
    label: 'Small CNN (34k)',
    description:
      'Three 3x3 conv + ReLU layers (16, 32, 64), each max-pooled, flattened into a dense classifier',
    build: plainCnn,
  },
  {
    id: 'resnet8',
    role: 'student',
    label: 'ResNet-8 (78k)',
    description: 'ResNet-8: 3 stages (16, 32, 64) of 1 basic block',
    build: (seed) => resnet(seed, 'resnet8', [16, 32, 64], 1),
  },
];

export function findPreset(id: string): ModelPreset {
  const preset = MODEL_PRESETS.find((p) => p.id === id);
  if (!preset) {
    throw new Error(`unknown model preset "${id}"; presets: ${MODEL_PRESETS.map((p) => p.id).join(', ')}`);
  }
  return preset;
}

/**
 * Forward FLOPs per image (2 x multiply-adds) of convolutions and dense layers; BatchNorm, ReLU, pooling and
 * additions are left out (they are under 1% here).
 */
export function flopsPerImage(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'Conv2D') {
      const [kh, kw, cin, cout] = layer.getWeights()[0]!.shape as number[];
      const out = layer.outputShape as number[];
      flops += 2 * kh! * kw! * cin! * cout! * out[1]! * out[2]!;
    } else if (className === 'Dense') {
      const [inUnits, outUnits] = layer.getWeights()[0]!.shape as number[];
      flops += 2 * inUnits! * outUnits!;
    }
  }
  return flops;
}
