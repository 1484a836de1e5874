/**
 * Profiles one training step on wasm in Node, per tfjs kernel: `npx tsx scripts/profile-step.ts PRESET`.
 * Used to find where step time goes (see the wasm kernels in src/engine/backend/). SLOW_BN=1 uses tfjs's own
 * BatchNorm gradient; DETAIL=<kernel> breaks one kernel down by shape; CPU_TIME=1 times kernels in this
 * process's CPU time instead of wall time, so that other processes sharing the cores do not inflate them.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastBatchNormGradient } from '../src/engine/backend/batchNormGradient';
import { initBackend } from '../src/engine/backend/initBackend';
import { findPreset } from '../src/engine/models/presets';
if (process.env.SLOW_BN !== '1') registerFastBatchNormGradient();
await initBackend('wasm');
if (process.env.CPU_TIME === '1') {
  // The wasm backend times a kernel as the wall time of its synchronous call; CPU time is the same call's
  // cost without the time the OS gave to other processes.
  tf.backend().time = async (f: () => void) => {
    const start = process.cpuUsage();
    f();
    const used = process.cpuUsage(start);
    return { kernelMs: (used.user + used.system) / 1000 };
  };
}
const model = findPreset(process.argv[2] ?? 'vgg-bn').build(1);
const opt = tf.train.momentum(0.05, 0.9);
const x = tf.randomNormal([64, 32, 32, 3]);
const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32'), 10);
const step = () =>
  opt.minimize(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor[];
    return tf.losses.softmaxCrossEntropy(y, out[0]!) as tf.Scalar;
  }, true)!;
for (let i = 0; i < 2; i++) await step().data();
// Wall clock per step (median of 5), then per-kernel ms per step: the minimum over 5 profiled steps (the box is shared).
const walls: number[] = [];
const cpus: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const l = step();
  await l.data();
  l.dispose();
  const c = process.cpuUsage(c0);
  walls.push(performance.now() - t0);
  cpus.push((c.user + c.system) / 1000);
}
walls.sort((a, b) => a - b);
cpus.sort((a, b) => a - b);
const by = new Map<string, number>();
for (let i = 0; i < 5; i++) {
  const info = await tf.profile(() => step());
  const one = new Map<string, number>();
  for (const k of info.kernels) one.set(k.name, (one.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  for (const [n, t] of one) by.set(n, Math.min(by.get(n) ?? Infinity, t));
}
const rows = [...by].sort((a, b) => b[1] - a[1]);
// '__op' rows are customGrad wrappers whose time already includes their kernels.
const total = rows.filter(([n]) => !n.endsWith('__op')).reduce((s, r) => s + r[1], 0);
console.log('wall ms/step (median of 5)', walls[2]!.toFixed(0), ' min', walls[0]!.toFixed(0));
// This process's CPU time per step: what the step costs when the cores are shared with other work.
console.log('cpu ms/step (median of 5)', cpus[2]!.toFixed(0), ' min', cpus[0]!.toFixed(0));
console.log('total kernel ms (excl. __op)', total.toFixed(0));
for (const [n, t] of rows.slice(0, 16)) console.log(n.padEnd(28), t.toFixed(1));
console.log('numTensors', tf.memory().numTensors);
if (process.env.DETAIL) {
  const info = await tf.profile(() => step());
  const agg = new Map<string, [number, number]>();
  for (const k of info.kernels) {
    if (k.name !== process.env.DETAIL) continue;
    const key = `${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`;
    const [n, t] = agg.get(key) ?? [0, 0];
    agg.set(key, [n + 1, t + (k.kernelTimeMs as number)]);
  }
  for (const [key, [n, t]] of [...agg].sort((a, b) => b[1][1] - a[1][1]))
    console.log(`${n}x ${t.toFixed(1)}ms ${key}`);
}
