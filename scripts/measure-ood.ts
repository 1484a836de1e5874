/**
 * Times the trust panel's first run the way a first visit meets it (issue 8's target: the teacher on the
 * embedded test split against MNIST), through the engine session the Worker runs, wasm in Node:
 * `npx tsx scripts/measure-ood.ts [--measure-first] [--preview-first]`. With --measure-first the teacher's
 * accuracy is measured first, as the page does on load; --preview-first shows the anchor gallery first.
 * Prints the OoD run's wall and CPU seconds (CPU: this process only, so other work on the cores does not count).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PREPARED_DATA_DIR } from '../src/cli/dataFiles';
import { initBackend } from '../src/engine/backend/initBackend';
import { LabSession } from '../src/engine/session';

const args = new Set(process.argv.slice(2));
await initBackend('wasm');
const teacherDir = join(PREPARED_DATA_DIR, '..', 'teacher');
const lab = new LabSession({
  readPreparedFile: async (path) => new Uint8Array(await readFile(join(PREPARED_DATA_DIR, path))),
  readShippedTeacher: async () => ({
    modelJson: new Uint8Array(await readFile(join(teacherDir, 'model.json'))),
    weights: new Uint8Array(await readFile(join(teacherDir, 'weights.bin'))),
    name: 'public/teacher/model.json',
  }),
});
await lab.usePreparedSet('embedded');
await lab.loadShippedTeacher();
const cpuSeconds = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
  const wall = performance.now();
  const cpu = cpuSeconds();
  const out = await work();
  console.log(
    `${what}: wall ${((performance.now() - wall) / 1000).toFixed(1)} s, cpu ${(cpuSeconds() - cpu).toFixed(1)} s`,
  );
  return out;
};
if (args.has('--measure-first')) await timed('teacher measurement', () => lab.measureTeacher());
if (args.has('--preview-first')) await timed('anchor preview', () => lab.previewAnchors(1));
const teacher = (await lab.oodModels()).find((m) => m.role === 'teacher');
if (!teacher) throw new Error('no teacher to score');
const result = await timed('OoD run (teacher, embedded test 2,000 vs MNIST 2,000)', () =>
  lab.runOod({ models: [teacher.key], sets: ['mnist'] }, () => undefined),
);
const auroc = Object.fromEntries(result!.rows.map((r) => [r.score, Number(r.auroc.toFixed(3))]));
console.log('AUROC', JSON.stringify(auroc), 'accuracy', result!.models[0]!.accuracy);
