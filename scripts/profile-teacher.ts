/**
 * Profiles the frozen teacher's inference pass on wasm in Node, per tfjs kernel (CPU ms of this process):
 * `npx tsx scripts/profile-teacher.ts [PRESET] [BATCH]`. The pass every teacher-side feature runs over a split
 * (anchors, the trust panel, the teacher measurement), so its per-image cost bounds their speed (issue 8/11).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend/initBackend';
import { freezeTeacher } from '../src/engine/distill/frozenTeacher';
import { findPreset } from '../src/engine/models/presets';
await initBackend('wasm');
tf.backend().time = async (f: () => void) => {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return { kernelMs: (used.user + used.system) / 1000 };
};
const batch = Number(process.argv[3] ?? 256);
const model = findPreset(process.argv[2] ?? 'vgg-fast').build(1);
const frozen = freezeTeacher(model);
const x = tf.randomNormal([batch, 32, 32, 3]);
const pass = () => {
  const out = frozen.run(x);
  return out;
};
for (let i = 0; i < 2; i++) {
  const out = pass();
  await out[0]!.data();
  tf.dispose(out);
}
const cpus: number[] = [];
for (let i = 0; i < 5; i++) {
  const c0 = process.cpuUsage();
  const out = pass();
  await out[0]!.data();
  tf.dispose(out);
  const c = process.cpuUsage(c0);
  cpus.push((c.user + c.system) / 1000);
}
cpus.sort((a, b) => a - b);
console.log(
  `batch ${batch}: cpu ms/pass median ${cpus[2]!.toFixed(0)} min ${cpus[0]!.toFixed(0)}; per image ${(cpus[2]! / batch).toFixed(3)} ms`,
);
const agg = new Map<string, number>();
for (let i = 0; i < 3; i++) {
  const one = new Map<string, number>();
  const info = await tf.profile(() => pass());
  for (const k of info.kernels) {
    const key = `${k.name} ${JSON.stringify(k.inputShapes[0])}`;
    one.set(key, (one.get(key) ?? 0) + (k.kernelTimeMs as number));
  }
  for (const [n, t] of one) agg.set(n, Math.min(agg.get(n) ?? Infinity, t));
}
for (const [n, t] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 20))
  console.log(n.padEnd(50), t.toFixed(1));
frozen.dispose();
console.log('numTensors', tf.memory().numTensors);
