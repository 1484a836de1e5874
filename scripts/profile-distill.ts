/**
 * Profiles one distillation step on wasm in Node, per tfjs kernel, in CPU ms of this process (other work on
 * the cores does not inflate it): `npx tsx scripts/profile-distill.ts [METHOD ...]` (default ce kd akd),
 * STUDENT=cnn-small|resnet8, TEACHER=vgg-fast, BATCH=64. The step is the method's loss under
 * tf.variableGrads and the optimizer updates, as the Trainer runs it (issue 11: where KD's and AKD's extra
 * time goes). The methods take turns step by step (ROUNDS=9); per method the median CPU ms and the kernels
 * (minimum over 3 profiled steps; PROFILE=0 skips them, DETAIL=<kernel> splits one by input shapes).
 * LONG_PRODUCT=0 turns the lab's long-inner product loop off (src/engine/backend/wasmLongProduct.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from '../src/engine/backend/batchNormGradient';
import { initBackend } from '../src/engine/backend/initBackend';
import { setLongProductEnabled } from '../src/engine/backend/wasmLongProduct';
import { IMAGE_BYTES, type ImageSplit } from '../src/engine/data/cifar10';
import { findMethod } from '../src/engine/distill/registry';
import { findPreset } from '../src/engine/models/presets';
import { makeBatch } from '../src/engine/training/batches';

await initBackend('wasm');
registerFastBatchNormGradient();
// LONG_PRODUCT=0: weight gradients and products by XNNPACK again, as before the long-inner loop (to compare).
if (process.env.LONG_PRODUCT === '0') setLongProductEnabled(false);
tf.backend().time = async (f: () => void) => {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return { kernelMs: (used.user + used.system) / 1000 };
};
const batch = Number(process.env.BATCH ?? 64);
const studentPreset = process.env.STUDENT ?? 'cnn-small';
const teacher = findPreset(process.env.TEACHER ?? 'vgg-fast').build(1);
const count = 1000;
const images = new Uint8Array(count * IMAGE_BYTES);
for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
const train: ImageSplit = { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count };
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const methods = process.argv.slice(2).length ? process.argv.slice(2) : ['ce', 'kd', 'akd'];
const rounds = Number(process.env.ROUNDS ?? 9);

/** One method bound to its own student, with the step the Trainer runs. */
async function prepare(id: string) {
  const student = findPreset(studentPreset).build(1);
  const instance = await findMethod(id).create({
    student,
    teacher,
    train,
    seed: 1,
    batchSize: batch,
    labelledFraction: 1,
    weightDecay: 5e-4,
  });
  const optimizer: tf.Optimizer = tf.train.momentum(0.01, 0.9);
  const vars = [
    ...student.trainableWeights.map((w) => w.read() as tf.Variable),
    ...(instance.extra.withModel ?? []),
  ];
  const groups = instance.extra.ownGroups ?? [];
  let step = 0;
  const run = () => {
    const indices = Array.from({ length: batch }, (_, i) => (step * batch + i) % count);
    step += 1;
    const x = tf.tensor4d(makeBatch(train, indices), [batch, 32, 32, 3]);
    const y = tf.tensor1d(
      indices.map((i) => train.labels[i]!),
      'int32',
    );
    const all = [...vars, ...groups.flatMap((g) => g.variables)];
    let packed: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = instance.loss({ images: x, labels: y, indices, training: true });
      // Every term in one tensor, read once per step as the Trainer does.
      packed = tf.keep(tf.stack(Object.values(out.terms)));
      return out.terms.total;
    }, all);
    const pick = (vs: readonly tf.Variable[]) => Object.fromEntries(vs.map((v) => [v.name, grads[v.name]!]));
    optimizer.applyGradients(pick(vars));
    for (const g of groups) {
      g.optimizer.applyGradients(pick(g.variables));
      g.afterUpdate?.();
    }
    tf.dispose([grads, x, y]);
    return { packed: packed!, value };
  };
  const once = async () => {
    const { packed, value } = run();
    await packed.data();
    tf.dispose([packed, value]);
  };
  const dispose = () => {
    instance.dispose();
    optimizer.dispose();
    student.dispose();
  };
  return { id, run, once, dispose, cpus: [] as number[] };
}

const prepared = [];
for (const id of methods) prepared.push(await prepare(id));
for (const p of prepared) for (let i = 0; i < 2; i++) await p.once();
// The methods take turns step by step, so that a change in the machine's load falls on all of them alike.
for (let r = 0; r < rounds; r++)
  for (const p of prepared) {
    const c0 = cpuNow();
    await p.once();
    p.cpus.push(cpuNow() - c0);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const p of prepared) {
  const by = new Map<string, number>();
  if (process.env.PROFILE !== '0')
    for (let i = 0; i < 3; i++) {
      const one = new Map<string, number>();
      let out: { packed: tf.Tensor; value: tf.Tensor } | null = null;
      const info = await tf.profile(() => {
        out = p.run();
        return out.packed;
      });
      tf.dispose([out!.packed, out!.value]);
      const detail = process.env.DETAIL;
      for (const k of info.kernels) {
        if (k.name.endsWith('__op')) continue;
        // DETAIL=<kernel name>: that kernel split by its input shapes.
        const key = k.name === detail ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
        one.set(key, (one.get(key) ?? 0) + (k.kernelTimeMs as number));
      }
      for (const [n, t] of one) by.set(n, Math.min(by.get(n) ?? Infinity, t));
    }
  const rows = [...by].sort((a, b) => b[1] - a[1]);
  const kernels = rows.reduce((s, r) => s + r[1], 0);
  console.log(
    `\n${p.id} (${studentPreset}): cpu ms/step median ${median(p.cpus).toFixed(1)} of ${rounds}; kernels ${kernels.toFixed(1)}`,
  );
  for (const [n, t] of rows.slice(0, Number(process.env.TOP ?? 10)))
    console.log('  ', n.padEnd(28), t.toFixed(1));
}
const base = median(prepared[0]!.cpus);
console.log(
  `\nmedian cpu ms/step (x ${prepared[0]!.id}):`,
  prepared
    .map((p) => `${p.id} ${median(p.cpus).toFixed(1)} (${(median(p.cpus) / base).toFixed(2)})`)
    .join(', '),
);
prepared.forEach((p) => p.dispose());
teacher.dispose();
console.log('numTensors after disposing', tf.memory().numTensors);
