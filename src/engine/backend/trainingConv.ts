/**
 * tfjs-layers' Conv2D without bias or activation, on wasm, as tfjs-core's plain conv2d op instead of its fused
 * one (docs/design.md §5, wasm training kernels). The fused op's gradient is a customGrad that computes the
 * input's gradient (Conv2DBackpropInput) whether or not anything needs it; the plain op's registered gradient
 * is lazy, so the tape skips it where the input is not a function of a variable: the first conv of every net,
 * whose input is the image batch (ResNet-8: [64, 32, 32, 3] from 16 channels, ~5 CPU ms a step; VGG-Fast: from
 * 32 channels, ~8 ms). Without bias or activation both ops run the same XNNPACK convolution, so the outputs
 * and gradients are the same (tested). Installed over Conv2D.prototype.call; every other case (bias, an
 * activation, dilation, channels first, other backends) runs tfjs-layers' own code.
 */
import * as tf from '@tensorflow/tfjs';

/** The fields of tfjs-layers' Conv2D that its call reads (protected in its typings). */
interface ConvFields {
  readonly rank: number;
  readonly kernel: tf.LayerVariable | null;
  readonly bias: tf.LayerVariable | null;
  readonly activation: { getClassName(): string } | null;
  readonly strides: number[];
  readonly padding: string;
  readonly dataFormat: string;
  readonly dilationRate: number[];
}

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

function plain(layer: ConvFields, input: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    layer.rank === 2 &&
    input.rank === 4 &&
    layer.kernel != null &&
    layer.bias == null &&
    (layer.activation == null || layer.activation.getClassName() === 'linear') &&
    layer.dataFormat === 'channelsLast' &&
    layer.dilationRate.every((d) => d === 1) &&
    (layer.padding === 'same' || layer.padding === 'valid')
  );
}

let installed: { proto: { call: Call }; original: Call; own: boolean } | null = null;

/** Puts the plain-op path in front of tfjs-layers' Conv2D.call. Idempotent. */
export function installTrainingConv(): void {
  if (installed) return;
  const proto = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as { call: Call };
  const own = Object.prototype.hasOwnProperty.call(proto, 'call');
  const original = proto.call;
  proto.call = function (this: ConvFields, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (input == null || (Array.isArray(inputs) && inputs.length !== 1) || !plain(this, input)) {
      return original.call(this, inputs, kwargs);
    }
    const [sh, sw] = this.strides as [number, number];
    return tf.tidy(() =>
      tf.conv2d(input as tf.Tensor4D, this.kernel!.read() as tf.Tensor4D, [sh, sw], this.padding as 'same'),
    );
  };
  installed = { proto, original, own };
}

/** Puts tfjs-layers' own Conv2D.call back (tests). */
export function uninstallTrainingConv(): void {
  if (!installed) return;
  if (installed.own) installed.proto.call = installed.original;
  else delete (installed.proto as { call?: Call }).call;
  installed = null;
}
