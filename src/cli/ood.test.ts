import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../engine/backend/initBackend';
import { encodeMethodCheckpoint, METHOD_FILES } from '../engine/distill/methodCheckpoint';
import { auroc } from '../engine/metrics/auroc';
import { findPreset } from '../engine/models/presets';
import { modelFiles, modelMetadata } from '../engine/training/checkpoint';
import { runCli } from '../testing/runCli';
import { folderStore } from './checkpointDir';

const cli = (...args: string[]) => runCli(args, 120_000);

let tmp: string;
let akdDir: string;
let plainDir: string;
let zipPath: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-ood-cli-test-'));
  await initBackend('cpu');
  // Students in the tfjs format, made here (cnn-small, seeded): one with AKD's anchors in its method state, as
  // a distill checkpoint saves them, and a plain one without.
  const student = findPreset('cnn-small').build(3);
  akdDir = join(tmp, 'akd');
  plainDir = join(tmp, 'plain');
  const files = await modelFiles(student, modelMetadata(student, 'cnn-small', 'student'));
  await folderStore(akdDir).write(files);
  await folderStore(plainDir).write(files);
  student.dispose();
  // Anchors: one training record of each class of the embedded set (records 0..9 suffice for the check).
  const { json, bin } = encodeMethodCheckpoint(
    { method: 'akd', params: {}, labelledFraction: 1, teacher: null },
    { anchors: { shape: [10], values: Float32Array.from({ length: 10 }, (_, i) => i * 1000) } },
  );
  await writeFile(join(akdDir, METHOD_FILES.json), json);
  await writeFile(join(akdDir, METHOD_FILES.bin), bin);
  // Three PNG images of different sizes in a zip, as an uploaded OoD set.
  const png = (w: number, h: number, v: number) =>
    encodePng({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(v), channels: 3, depth: 8 });
  zipPath = join(tmp, 'pictures.zip');
  await writeFile(
    zipPath,
    zipSync({ 'a.png': png(64, 64, 10), 'b.png': png(20, 40, 120), 'c.png': png(32, 32, 250) }),
  );
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm run cli -- ood', () => {
  it('prints a JSON line per set and score, calibration and misclassification; --scores holds every image in order', async () => {
    const scoresPath = join(tmp, 'scores.json');
    const result = await cli(
      'ood',
      '--checkpoint',
      akdDir,
      '--ood',
      'gaussian',
      '--ood',
      zipPath,
      '--scores',
      scoresPath,
      '--json',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ood = lines.filter((l) => l.kind === 'ood');
    expect(ood.map((l) => `${String(l.set)}/${String(l.score)}`)).toEqual([
      'gaussian/msp',
      'gaussian/entropy',
      'gaussian/energy',
      'gaussian/anchorU',
      'pictures.zip/msp',
      'pictures.zip/entropy',
      'pictures.zip/energy',
      'pictures.zip/anchorU',
    ]);
    for (const l of ood)
      for (const k of ['auroc', 'aupr', 'fpr95'])
        expect((l[k] as number) >= 0 && (l[k] as number) <= 1).toBe(true);
    const calibration = lines.find((l) => l.kind === 'calibration')!;
    expect(calibration.accuracy as number).toBeGreaterThanOrEqual(0);
    expect(calibration.ece as number).toBeGreaterThan(0);
    expect(lines.filter((l) => l.kind === 'misclassification').map((l) => l.score)).toEqual([
      'msp',
      'entropy',
      'energy',
      'anchorU',
    ]);
    const summary = lines.find((l) => l.kind === 'summary')!;
    expect(summary.anchors).toMatch(/its own AKD anchors \(10/);
    expect(summary.sets).toEqual([
      { name: 'gaussian', count: 2000 },
      { name: 'pictures.zip', count: 3 },
    ]);

    const scores = JSON.parse(await readFile(scoresPath, 'utf8')) as {
      id: Record<string, number[]>;
      ood: Record<string, Record<string, number[]>>;
    };
    expect(scores.id.msp).toHaveLength(2000);
    expect(scores.ood['pictures.zip']!.anchorU).toHaveLength(3);
    // The written scores are the ones the metrics came from.
    for (const l of ood.filter((x) => x.set === 'gaussian'))
      expect(auroc(scores.id[l.score as string]!, scores.ood.gaussian![l.score as string]!)).toBeCloseTo(
        l.auroc as number,
        10,
      );
  });

  it('prints a readable table without --json', async () => {
    const result = await cli('ood', '--checkpoint', akdDir, '--ood', 'uniform');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^set\s+score\s+AUROC\s+AUPR\s+FPR95$/m);
    expect(result.stdout).toMatch(/^uniform\s+anchorU\s+\d\.\d{4}/m);
    expect(result.stdout).toMatch(/ECE \(15 bins\) \d\.\d{4}/);
  });

  it('refuses unknown sets, unreadable files, students without anchors and mismatched models, by name', async () => {
    const usage = await cli('ood', '--ood', 'mnist');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error: ood needs --checkpoint DIR');

    const unknown = await cli('ood', '--checkpoint', akdDir, '--ood', 'svhn');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'error: --ood svhn: not one of mnist, gaussian, uniform, and not a readable file (ENOENT)',
    );

    const badFile = join(tmp, 'notes.txt');
    await writeFile(badFile, 'hello');
    const bad = await cli('ood', '--checkpoint', akdDir, '--ood', badFile);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: notes.txt: not a file this panel reads');

    const noAnchors = await cli('ood', '--checkpoint', plainDir);
    expect(noAnchors.code).toBe(1);
    expect(noAnchors.stderr).toContain(
      'is a cnn-small student without anchors of its own; give --teacher DIR',
    );

    const notTeacher = await cli('ood', '--checkpoint', plainDir, '--teacher', akdDir);
    expect(notTeacher.code).toBe(1);
    expect(notTeacher.stderr).toContain('is a cnn-small student, not a teacher');

    const missing = await cli('ood', '--checkpoint', join(tmp, 'nothing'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nothing\/model\.json: cannot read \(ENOENT\)/);
  });
});
