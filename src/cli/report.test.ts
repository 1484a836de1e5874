import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../engine/backend/initBackend';
import { findPreset } from '../engine/models/presets';
import type { ReportCard } from '../engine/report/reportCard';
import { modelFiles, modelMetadata } from '../engine/training/checkpoint';
import { REPO_ROOT, runCli } from '../testing/runCli';
import { folderStore } from './checkpointDir';

let tmp: string;
let studentDir: string;
const teacherDir = join(REPO_ROOT, 'public', 'teacher');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-report-test-'));
  studentDir = join(tmp, 'student');
  await initBackend('cpu');
  const student = findPreset('cnn-small').build(5);
  await folderStore(studentDir).write(
    await modelFiles(student, modelMetadata(student, 'cnn-small', 'student')),
  );
  student.dispose();
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm run cli -- report', () => {
  it('prints one JSON object: sizes as on disk, the stored teacher accuracy, latencies and the ratios', async () => {
    const result = await runCli(
      ['report', '--teacher', teacherDir, '--student', studentDir, '--warmup', '1', '--repeats', '3'],
      120_000,
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const card = JSON.parse(result.stdout) as ReportCard & { set: string };
    expect(card).toMatchObject({ kind: 'report', set: 'embedded', backend: 'wasm', testImages: 2000 });
    expect(card.latency).toEqual({ warmup: 1, repeats: 3 });
    expect(card.flopsConvention).toContain('1 multiply-add = 2 FLOPs');
    expect(card.teacher.preset).toBe('vgg-fast');
    expect(card.student.preset).toBe('cnn-small');
    expect(card.teacher.weightBytes).toBe((await stat(join(teacherDir, 'weights.bin'))).size);
    expect(card.student.weightBytes).toBe((await stat(join(studentDir, 'weights.bin'))).size);
    // model.json of the shipped teacher stores 84.35% on the embedded test split (README).
    expect(card.teacher.testAccuracy).toBeCloseTo(0.8435, 3);
    expect(card.compression).toBeCloseTo(card.teacher.weightBytes / card.student.weightBytes, 12);
    expect(card.retention).toBeCloseTo(card.student.testAccuracy / card.teacher.testAccuracy, 12);
    for (const batch of ['batch1', 'batch64'] as const) {
      expect(card.teacher.latencyMsPerImage[batch]).toBeGreaterThan(0);
      expect(card.speedup[batch]).toBeCloseTo(
        card.teacher.latencyMsPerImage[batch] / card.student.latencyMsPerImage[batch],
        12,
      );
    }
  }, 150_000);

  it('refuses missing folders, unknown options and bad counts by name', async () => {
    const cases: [string[], number, string][] = [
      [['report', '--teacher', teacherDir], 2, 'error: report needs --student DIR'],
      [['report'], 2, 'error: report needs --teacher DIR and --student DIR'],
      [
        ['report', '--teacher', teacherDir, '--student', studentDir, '--repets', '3'],
        2,
        "error: Unknown option '--repets'",
      ],
      [
        ['report', '--teacher', teacherDir, '--student', studentDir, '--repeats', '0'],
        2,
        'error: --repeats must be a whole number from 1 to 1000; got "0"',
      ],
      [
        ['report', '--teacher', join(tmp, 'nowhere'), '--student', studentDir],
        1,
        `error: ${join(tmp, 'nowhere', 'model.json')}: cannot read (ENOENT)`,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((result, i) => {
      const [, code, message] = cases[i]!;
      expect(result.code).toBe(code);
      expect(result.stderr.split('\n')[0]).toBe(message);
    });
  }, 120_000);
});
