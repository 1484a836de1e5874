/**
 * BatchNormalization in training, on wasm, as one op with its own gradient instead of tfjs-layers' graph
 * (moments, then batchNorm: Mean, Sub, Square, Mean, FusedBatchNorm forward, and about ten passes over the
 * feature map backward through all of them). Here: one loop over x for the per-channel sums (float64), y as
 * one per-channel affine pass, and backward one loop for sum(dy) and sum(dy (x - mean)), then
 *   dx = g s (dy - sum(dy) / n - (x - mean) s^2 sum(dy (x - mean)) / n),   s = 1 / sqrt(variance + eps),
 * as one affine pass over dy and x: the exact gradient of the same function (biased batch variance, as
 * tfjs-layers uses). The layer's moving averages are updated with the same float32 arithmetic as tfjs-layers',
 * in JS (movingAverage). Installed over BatchNormalization.prototype.call; every case but a training call on
 * wasm with the channel axis last runs tfjs-layers' own code (docs/design.md §5, wasm training kernels).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapAddress, wasmLoops } from './wasmLoops';
import { splitCalls, splitLoop, teamFor } from './wasmTeam';

/** The fields of tfjs-layers' BatchNormalization that its training call reads (private in its typings). */
interface BatchNormFields {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly gamma: tf.LayerVariable | null;
  readonly beta: tf.LayerVariable | null;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
}

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

function heapOf(t: tf.TensorInfo): Float32Array {
  const backend = tf.backend() as unknown as BackendWasm;
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * scale * t + shift per channel (the last axis), plus scale2 * t2 when given: one pass of the wasm loop
 * (wasmChannelAffine.ts) where it can be made and the channels divide by 4; else as XNNPACK 1x1 depthwise convs
 * with bias (one pass each, several times faster than wasm's FusedBatchNorm or a JS loop) and an add.
 */
function channelAffine(
  t: tf.Tensor,
  scale: Float32Array,
  shift: Float32Array,
  second?: { t: tf.Tensor; scale: Float32Array },
): tf.Tensor {
  const channels = scale.length;
  const backend = tf.backend() as unknown as BackendWasm;
  const loops = tf.getBackend() === 'wasm' ? wasmLoops(backend) : null;
  if (loops != null && channels % 4 === 0) {
    return tf.tidy(() => {
      const [a, s] = [tf.tensor1d(scale), tf.tensor1d(shift)];
      const b = second ? tf.tensor1d(second.scale) : null;
      const out = tf.engine().makeTensorFromTensorInfo(backend.makeOutput([...t.shape], 'float32'));
      const at = (x: tf.Tensor | null) => (x == null ? 0 : heapAddress(backend, x.dataId));
      // Split by rows among the loop team (wasmTeam.ts).
      const rows = t.size / channels;
      const row = 4 * channels;
      splitLoop(loops, 'channelAffine', rows, (second ? 3 : 2) * t.size, (from, to) => [
        at(out) + from * row,
        at(t) + from * row,
        second ? at(second.t) + from * row : 0,
        at(a),
        at(b),
        at(s),
        to - from,
        channels,
      ]);
      return out;
    });
  }
  const pass = (x: tf.Tensor, k: Float32Array, c: Float32Array) =>
    tf.reshape(
      tf.fused.depthwiseConv2d({
        x: tf.reshape(x, [x.size / channels, 1, 1, channels]) as tf.Tensor4D,
        filter: tf.tensor4d(k, [1, 1, channels, 1]),
        strides: 1,
        pad: 'valid',
        bias: tf.tensor1d(c),
      }),
      x.shape,
    );
  return tf.tidy(() => {
    const y = pass(t, scale, shift);
    return second ? tf.add(y, pass(second.t, second.scale, new Float32Array(channels))) : y;
  });
}

/** Rows per block of channelSums: a block of every channel stays in cache while each channel is summed. */
const SUM_BLOCK_ROWS = 256;

/**
 * Per-channel sums over all but the last axis, in float64: of `a`, and of `a * (b - shift)` when given (else
 * of `a * a`). Blocks of rows, four channels at a time into local accumulators: 2-4x faster here than one
 * pass with the sums in arrays (the same sums up to float64 rounding).
 */
export function channelSums(a: Float32Array, channels: number, b?: Float32Array, shift?: Float64Array) {
  const first = new Float64Array(channels);
  const second = new Float64Array(channels);
  const rows = a.length / channels;
  for (let r0 = 0; r0 < rows; r0 += SUM_BLOCK_ROWS) {
    const start = r0 * channels;
    const end = Math.min(rows, r0 + SUM_BLOCK_ROWS) * channels;
    let c = 0;
    for (; c + 4 <= channels; c += 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        q0 = 0,
        q1 = 0,
        q2 = 0,
        q3 = 0;
      if (b && shift) {
        const m0 = shift[c]!,
          m1 = shift[c + 1]!,
          m2 = shift[c + 2]!,
          m3 = shift[c + 3]!;
        for (let i = start + c; i < end; i += channels) {
          const v0 = a[i]!,
            v1 = a[i + 1]!,
            v2 = a[i + 2]!,
            v3 = a[i + 3]!;
          s0 += v0;
          s1 += v1;
          s2 += v2;
          s3 += v3;
          q0 += v0 * (b[i]! - m0);
          q1 += v1 * (b[i + 1]! - m1);
          q2 += v2 * (b[i + 2]! - m2);
          q3 += v3 * (b[i + 3]! - m3);
        }
      } else {
        for (let i = start + c; i < end; i += channels) {
          const v0 = a[i]!,
            v1 = a[i + 1]!,
            v2 = a[i + 2]!,
            v3 = a[i + 3]!;
          s0 += v0;
          s1 += v1;
          s2 += v2;
          s3 += v3;
          q0 += v0 * v0;
          q1 += v1 * v1;
          q2 += v2 * v2;
          q3 += v3 * v3;
        }
      }
      first[c] = first[c]! + s0;
      first[c + 1] = first[c + 1]! + s1;
      first[c + 2] = first[c + 2]! + s2;
      first[c + 3] = first[c + 3]! + s3;
      second[c] = second[c]! + q0;
      second[c + 1] = second[c + 1]! + q1;
      second[c + 2] = second[c + 2]! + q2;
      second[c + 3] = second[c + 3]! + q3;
    }
    for (; c < channels; c++) {
      let s1 = 0;
      let q1 = 0;
      const m = shift?.[c] ?? 0;
      for (let i = start + c; i < end; i += channels) {
        const v = a[i]!;
        s1 += v;
        q1 += v * (b ? b[i]! - m : v);
      }
      first[c] = first[c]! + s1;
      second[c] = second[c]! + q1;
    }
  }
  return { first, second };
}

/**
 * `channelSums` of tensors on the wasm heap, by the wasm loop (wasmLoops.ts) where it can be made: the same
 * blocks and order, so the same sums, at a fraction of the JS loop's time.
 */
/** The first `count` float64s of a float32 heap view's memory (8-byte aligned: the heap allocator's unit). */
const asFloat64 = (view: Float32Array, count: number) =>
  new Float64Array(view.buffer, view.byteOffset, count);

export function heapChannelSums(a: tf.Tensor, channels: number, b?: tf.Tensor, shift?: Float64Array) {
  const backend = tf.backend() as unknown as BackendWasm;
  const loops = wasmLoops(backend);
  if (loops == null) return channelSums(heapOf(a), channels, b && heapOf(b), shift);
  const rows = a.size / channels;
  // With a loop team (wasmTeam.ts), whole blocks split among its threads, each block's sums kept apart.
  const blocks = (teamFor(loops)?.parts() ?? 1) > 1 ? Math.ceil(rows / SUM_BLOCK_ROWS) : 1;
  // Per block: its first and second sums; then shift: all float64 on the heap.
  const scratch = backend.makeOutput([4 * blocks * channels + 2 * channels], 'float32');
  try {
    const at = heapAddress(backend, scratch.dataId);
    const f64 = asFloat64(heapOf(scratch), (2 * blocks + 1) * channels);
    f64.fill(0, 0, 2 * blocks * channels);
    if (shift) f64.set(shift, 2 * blocks * channels);
    const [aAt, bAt] = [heapAddress(backend, a.dataId), b ? heapAddress(backend, b.dataId) : 0];
    const shiftAt = at + 16 * blocks * channels;
    const sums = (block: number, count: number) => {
      const rowBytes = 4 * block * SUM_BLOCK_ROWS * channels;
      const first = at + 16 * block * channels;
      return [aAt + rowBytes, bAt && bAt + rowBytes, shiftAt, count, channels, first, first + 8 * channels];
    };
    if (blocks === 1) loops.channelSums(...(sums(0, rows) as ChannelSumsArgs), SUM_BLOCK_ROWS);
    else {
      // Each block into sums of its own, zeroed (the whole blocks split, a last partial one here), then the
      // blocks' sums added in order: the same float64 additions as one call makes (0 + s is s).
      const full = Math.floor(rows / SUM_BLOCK_ROWS);
      const step = 4 * SUM_BLOCK_ROWS * channels;
      const steps = [step, b ? step : 0, 0, 0, 0, 16 * channels, 16 * channels, 0];
      const first = [...sums(0, SUM_BLOCK_ROWS), SUM_BLOCK_ROWS];
      splitCalls(loops, 'channelSums', full, (b ? 2 : 1) * a.size, first, steps);
      if (full < blocks)
        loops.channelSums(...(sums(full, rows - full * SUM_BLOCK_ROWS) as ChannelSumsArgs), SUM_BLOCK_ROWS);
    }
    const perBlock = asFloat64(heapOf(scratch), 2 * blocks * channels);
    const [first, second] = [new Float64Array(channels), new Float64Array(channels)];
    for (let block = 0; block < blocks; block++) {
      for (let c = 0; c < channels; c++) {
        first[c] = first[c]! + perBlock[2 * block * channels + c]!;
        second[c] = second[c]! + perBlock[(2 * block + 1) * channels + c]!;
      }
    }
    return { first, second };
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

type ChannelSumsArgs = [number, number, number, number, number, number, number];

/**
 * y for a batch x (channels last), with the batch mean and biased variance it used; y is differentiable in x,
 * gamma and beta, mean and variance are constants (for the moving averages).
 */
export function trainingBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const channels = x.shape[x.rank - 1]!;
  const count = x.size / channels;
  const { first, second } = heapChannelSums(x, channels);
  const meanValues = new Float64Array(channels);
  const varianceValues = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = first[c]! / count;
    meanValues[c] = m;
    varianceValues[c] = Math.max(0, second[c]! / count - m * m);
  }
  const mean = tf.tensor1d(Float32Array.from(meanValues));
  const variance = tf.tensor1d(varianceValues);
  // What the backward pass needs from the forward one, kept as plain numbers: the tensors above belong to
  // the caller's tidy, which ends before backprop runs.
  const centre = Float64Array.from(Float32Array.from(meanValues));
  const inv = Float64Array.from(varianceValues, (v) => 1 / Math.sqrt(Math.fround(v + epsilon)));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // customGrad passes the inputs, then its save function.
    const [xs, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([xs, g]);
    // y = x * (g s) + (b - mean g s), the batchNorm of x with these statistics, in one pass.
    const gv = heapOf(g);
    const bv = heapOf(b);
    const scale = Float32Array.from(inv, (s, c) => gv[c]! * s);
    const shift = Float32Array.from(scale, (k, c) => bv[c]! - centre[c]! * k);
    return {
      value: channelAffine(xs, scale, shift),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        if (Array.isArray(dy)) throw new Error('trainingBatchNorm: one output, one gradient');
        const [xSaved, gSaved] = saved as [tf.Tensor, tf.Tensor];
        const gv = heapOf(gSaved);
        const sums = heapChannelSums(dy, channels, xSaved, centre);
        const a = new Float64Array(channels);
        const bx = new Float64Array(channels);
        const d = new Float64Array(channels);
        for (let c = 0; c < channels; c++) {
          const s = inv[c]!;
          a[c] = gv[c]! * s;
          bx[c] = (-gv[c]! * s * s * s * sums.second[c]!) / count;
          d[c] = (-gv[c]! * s * sums.first[c]!) / count;
        }
        // dx = a dy + bx x + (d - bx mean), per channel, in one pass.
        const dx = channelAffine(
          dy,
          Float32Array.from(a),
          Float32Array.from(d, (v, c) => v - bx[c]! * centre[c]!),
          { t: xSaved, scale: Float32Array.from(bx) },
        );
        const dGamma = tf.tensor1d(Float32Array.from(sums.second, (v, c) => v * inv[c]!));
        const dBeta = tf.tensor1d(Float32Array.from(sums.first));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return { y: op(x, gamma, beta), mean, variance };
}

/**
 * A moving average's next value as tfjs-layers computes it, previous - (previous - value) * (1 - momentum) in
 * float32, step by step, but in JS over the heap: tfjs's three kernels per average are tiny passes whose cost is
 * all per call, more so on a page with wasm threads (Multiply took 3.1 ms of ResNet-8's profiled step there, 0.8
 * on a single-threaded page; docs/benchmarks.md, eighth session).
 */
export function movingAverage(previous: Float32Array, value: Float32Array, momentum: number): tf.Tensor1D {
  const decay = Math.fround(1 - momentum);
  return tf.tensor1d(
    Float32Array.from(previous, (p, c) => Math.fround(p - Math.fround(Math.fround(p - value[c]!) * decay))),
  );
}

/** Whether the fused path can run this call; everything else goes to tfjs-layers' own code. */
function fusable(layer: BatchNormFields, input: tf.Tensor, training: boolean): boolean {
  const axis = layer.axis < 0 ? layer.axis + input.rank : layer.axis;
  return (
    training &&
    tf.getBackend() === 'wasm' &&
    input.dtype === 'float32' &&
    input.rank >= 2 &&
    axis === input.rank - 1 &&
    layer.gamma != null &&
    layer.beta != null
  );
}

let installed: { proto: { call: Call }; original: Call } | null = null;

/** Puts the fused training path in front of tfjs-layers' BatchNormalization.call. Idempotent. */
export function installTrainingBatchNorm(): void {
  if (installed) return;
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: Call };
  const original = proto.call;
  proto.call = function (this: BatchNormFields, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (
      input == null ||
      (Array.isArray(inputs) && inputs.length !== 1) ||
      !fusable(this, input, kwargs.training === true)
    )
      return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      // fusable() checked gamma and beta.
      const { y, mean, variance } = trainingBatchNorm(
        input,
        this.gamma!.read(),
        this.beta!.read(),
        this.epsilon,
      );
      for (const [variable, value] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const)
        variable.write(movingAverage(heapOf(variable.read()), heapOf(value), this.momentum));
      return y;
    });
  };
  installed = { proto, original };
}

/** Puts tfjs-layers' own BatchNormalization.call back (tests). */
export function uninstallTrainingBatchNorm(): void {
  if (!installed) return;
  installed.proto.call = installed.original;
  installed = null;
}
