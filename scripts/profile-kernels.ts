/**
 * Times single wasm training kernels on the shapes of a preset's step, in CPU ms of this process (median of
 * ROUNDS calls): `npx tsx scripts/profile-kernels.ts [Conv2DBackpropFilter|Conv2DBackpropInput] [preset]`.
 * Used to compare kernel implementations (src/engine/backend/) shape by shape without a whole training step.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend/initBackend';
import { findPreset } from '../src/engine/models/presets';

await initBackend('wasm');
const only = process.argv[2];
const preset = process.argv[3] ?? 'resnet8';
const rounds = Number(process.env.ROUNDS ?? 7);

/** CPU ms of one synchronous call, median of `rounds`. */
function cpuMs(f: () => void): number {
  const ts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    ts.push((c.user + c.system) / 1000);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(rounds / 2)]!;
}

// Record the conv kernels of one training step, with their inputs' shapes and attributes.
const model = findPreset(preset).build(1);
const x = tf.randomNormal([64, 32, 32, 3]);
const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32'), 10);
const opt = tf.train.momentum(0.05, 0.9);
const seen = new Map<
  string,
  { name: string; shapes: number[][]; attrs: Record<string, unknown>; real: tf.Tensor[] }
>();
const engine = tf.engine() as unknown as {
  runKernel: (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) => unknown;
};
const runKernel = engine.runKernel.bind(engine);
engine.runKernel = (name, inputs, attrs) => {
  if (name === 'Conv2DBackpropFilter' || name === 'Conv2DBackpropInput') {
    const shapes = Object.values(inputs).map((t) => t.shape);
    const key = `${name} ${JSON.stringify(shapes)} ${JSON.stringify(attrs)}`;
    if (!seen.has(key))
      seen.set(key, {
        name,
        shapes,
        attrs: { ...attrs },
        real: Object.values(inputs).map((t) => tf.keep(t.clone())),
      });
  }
  return runKernel(name, inputs, attrs);
};
tf.dispose(
  opt.minimize(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor[];
    return tf.losses.softmaxCrossEntropy(y, out[0]!) as tf.Scalar;
  }, true) ?? [],
);
engine.runKernel = runKernel;

let total = 0;
for (const { name, shapes, attrs, real } of seen.values()) {
  if (only && only !== 'all' && only !== name) continue;
  const inputs = process.env.REAL === '1' ? real : shapes.map((s) => tf.randomNormal(s));
  const named: tf.NamedTensorMap =
    name === 'Conv2DBackpropFilter'
      ? { x: inputs[0]!, dy: inputs[1]! }
      : { dy: inputs[0]!, filter: inputs[1]! };
  const call = () =>
    tf.tidy(() => void (tf.engine().runKernel(name, named, attrs as never) as tf.Tensor).dataSync());
  call();
  const ms = cpuMs(call);
  total += ms;
  console.log(
    `${name.padEnd(22)} ${JSON.stringify(shapes).padEnd(40)} s${JSON.stringify(attrs.strides)} ${ms.toFixed(2)}`,
  );
  tf.dispose(inputs);
}
console.log('total', total.toFixed(1));
