/**
 * Profiles one distillation step on wasm in Node, per tfjs kernel, in CPU ms of this process (other work on
 * the cores does not inflate it): `npx tsx scripts/profile-distill.ts [METHOD ...]` (default ce kd akd),
 * STUDENT=cnn-small|resnet8, TEACHER=vgg-fast, BATCH=64. The step is the method's loss under
 * tf.variableGrads and the optimizer updates, as the Trainer runs it (issue 11: where KD's and AKD's extra
 * time goes). Per method: the median CPU ms of 7 steps and the kernels (minimum over 3 profiled steps).
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from '../src/engine/backend/batchNormGradient';
import { initBackend } from '../src/engine/backend/initBackend';
import { IMAGE_BYTES, type ImageSplit } from '../src/engine/data/cifar10';
import { findMethod } from '../src/engine/distill/registry';
import { findPreset } from '../src/engine/models/presets';
import { makeBatch } from '../src/engine/training/batches';

await initBackend('wasm');
registerFastBatchNormGradient();
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
const summary: string[] = [];
for (const id of methods) {
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
  const optimizer = tf.train.momentum(0.01, 0.9);
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
  for (let i = 0; i < 2; i++) await once();
  const cpus: number[] = [];
  for (let i = 0; i < 7; i++) {
    const c0 = cpuNow();
    await once();
    cpus.push(cpuNow() - c0);
  }
  cpus.sort((a, b) => a - b);
  const by = new Map<string, number>();
  for (let i = 0; i < 3; i++) {
    const one = new Map<string, number>();
    let out: { packed: tf.Tensor; value: tf.Tensor } | null = null;
    const info = await tf.profile(() => {
      out = run();
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
    `\n${id} (${studentPreset}): cpu ms/step median ${cpus[3]!.toFixed(1)} min ${cpus[0]!.toFixed(1)}; kernels ${kernels.toFixed(1)}`,
  );
  for (const [n, t] of rows.slice(0, Number(process.env.TOP ?? 14)))
    console.log('  ', n.padEnd(28), t.toFixed(1));
  summary.push(`${id} ${cpus[3]!.toFixed(1)}`);
  instance.dispose();
  optimizer.dispose();
  student.dispose();
}
console.log('\nsummary (median cpu ms/step):', summary.join(', '), '| numTensors', tf.memory().numTensors);
