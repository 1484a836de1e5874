import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMethodCheckpoint, METHOD_FILES } from '../engine/distill/methodCheckpoint';
import { initBackend } from '../engine/backend/initBackend';
import { findPreset } from '../engine/models/presets';
import { type ModelMetadata, modelFiles, modelMetadata } from '../engine/training/checkpoint';
import { runCli } from '../testing/runCli';
import { folderStore } from './checkpointDir';

// The shipped teacher (vgg-fast, trained on CIFAR-10) over the 10,000 embedded training images.
const TEACHER = 'public/teacher';
const cli = (...args: string[]) => runCli(args, 240_000);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-anchors-cli-test-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A distill checkpoint's method files with the given method, anchors and masks. */
async function methodFolder(
  name: string,
  method: string,
  state: Parameters<typeof encodeMethodCheckpoint>[1],
) {
  const dir = join(tmp, name);
  const { json, bin } = encodeMethodCheckpoint(
    {
      method,
      params: { anchorsPerClass: 1 },
      labelledFraction: 1,
      teacher: { preset: 'vgg-fast', source: TEACHER },
    },
    state,
  );
  await folderStore(dir).write({
    [METHOD_FILES.json]: new TextEncoder().encode(json),
    [METHOD_FILES.bin]: bin,
  });
  return dir;
}

describe('npm run cli -- anchors: refusals', () => {
  it('needs --teacher (usage, exit 2) and refuses a bad --per-class, a folder that is not a teacher, a non-AKD run', async () => {
    const usage = await cli('anchors');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error: anchors needs --teacher DIR');

    const perClass = await cli('anchors', '--teacher', TEACHER, '--per-class', '0');
    expect(perClass.code).toBe(1);
    expect(perClass.stderr).toContain('error: --per-class must be a whole number from 1 to 50; got "0"');

    const missing = await cli('anchors', '--teacher', join(tmp, 'nowhere'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(tmp, 'nowhere', 'model.json')}: cannot read`);

    // A student's model is the wrong shape for a teacher.
    await initBackend('cpu');
    const student = findPreset('cnn-small').build(1);
    const studentDir = join(tmp, 'student');
    await folderStore(studentDir).write(
      await modelFiles(student, modelMetadata(student, 'cnn-small', 'student')),
    );
    student.dispose();
    const wrongShape = await cli('anchors', '--teacher', studentDir);
    expect(wrongShape.code).toBe(1);
    expect(wrongShape.stderr).toMatch(
      /error: .*model\.json: is a cnn-small model \(student\); a teacher must be one of/,
    );

    const notRun = await cli('anchors', '--teacher', TEACHER, '--run', studentDir);
    expect(notRun.code).toBe(1);
    expect(notRun.stderr).toContain(`error: ${studentDir}: not a distillation checkpoint (no method.json)`);

    const kdRun = await methodFolder('kd-run', 'kd', {});
    const kd = await cli('anchors', '--teacher', TEACHER, '--run', kdRun);
    expect(kd.code).toBe(1);
    expect(kd.stderr).toContain(
      `error: ${kdRun}: a kd run, which has no anchors or masks (akd, akd+kd and akd+crd have)`,
    );

    const akdRun = await methodFolder('akd-run-2', 'akd', {
      'akd/masks': { shape: [10, 14, 14, 1], values: new Float32Array(1960).fill(1) },
    });
    const conflict = await cli('anchors', '--teacher', TEACHER, '--run', akdRun, '--per-class', '2');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain("error: --per-class 2 differs from the run's 1 anchors per class");

    const storeTwo = await cli('anchors', '--teacher', TEACHER, '--store', '--per-class', '2');
    expect(storeTwo.code).toBe(2);
    expect(storeTwo.stderr).toContain("error: --store keeps a teacher's own anchors, 1 per class");
  }, 120_000);
});

describe('npm run cli -- anchors', () => {
  it("gives the teacher's anchors and contact sheet, then a run's mask statistics", async () => {
    const sheet = join(tmp, 'sheet.png');
    // On a copy of the shipped teacher, with --store: the choice goes into the copy's model.json.
    const copy = join(tmp, 'teacher-copy');
    await cp(TEACHER, copy, { recursive: true });
    const plain = await cli('anchors', '--teacher', copy, '--png', sheet, '--json', '--store');
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const result = JSON.parse(plain.stdout) as {
      indices: number[];
      classes: number[];
      classNames: string[];
      centrality: number[];
      masks?: unknown;
      stored: string;
    };
    expect(result.classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const metadataOf = async (dir: string) =>
      (
        JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
          userDefinedMetadata: { distillery: ModelMetadata };
        }
      ).userDefinedMetadata.distillery;
    const shipped = await metadataOf(TEACHER);
    // The shipped teacher's stored anchors are what the rule picks now (the trust panel reads them, not a pass).
    const embedded = { indices: result.indices, centrality: result.centrality };
    expect(shipped.anchors?.embedded?.indices).toEqual(result.indices);
    shipped.anchors!.embedded!.centrality.forEach((c, k) => expect(c).toBeCloseTo(result.centrality[k]!, 2));
    expect(result.stored).toBe(join(copy, 'model.json'));
    expect(await metadataOf(copy)).toEqual({
      ...shipped,
      anchors: { ...shipped.anchors, embedded },
    });
    expect(await readFile(join(copy, 'weights.bin'))).toEqual(await readFile(join(TEACHER, 'weights.bin')));
    expect(new Set(result.indices).size).toBe(10);
    expect(result.classNames[0]).toBe('airplane');
    // Centrality is a row sum of cosines over a class of 1,000: positive and at most 1,000.
    for (const c of result.centrality) expect(c > 0 && c <= 1000).toBe(true);
    expect(result.masks).toBeUndefined();
    const png = decodePng(await readFile(sheet));
    expect([png.width, png.height]).toEqual([3 * 96 + 8, 10 * 100]);

    // A run's masks: each anchor's mask is 1 + a checkerboard of +-0.1 * (its number + 1); its mean |m - 1| is that.
    const values = new Float32Array(10 * 196);
    values.forEach((_, i) => {
      const anchor = Math.floor(i / 196);
      const cell = i % 196;
      values[i] = 1 + ((Math.floor(cell / 14) + cell) % 2 ? 1 : -1) * 0.01 * (anchor + 1);
    });
    const run = await methodFolder('akd-run', 'akd', {
      'akd/masks': { shape: [10, 14, 14, 1], values },
      'akd/anchors': { shape: [10], values: Float32Array.from(result.indices) },
    });
    const withRun = await cli('anchors', '--teacher', TEACHER, '--run', run, '--json');
    expect(withRun.code).toBe(0);
    const masks = (
      JSON.parse(withRun.stdout) as {
        masks: { mean: number; min: number; max: number; meanAbsMove: number }[];
      }
    ).masks;
    expect(masks).toHaveLength(10);
    masks.forEach((m, k) => {
      expect(m.mean).toBeCloseTo(1, 5);
      expect(m.meanAbsMove).toBeCloseTo(0.01 * (k + 1), 5);
      expect(m.max).toBeCloseTo(1 + 0.01 * (k + 1), 5);
      expect(m.min).toBeCloseTo(1 - 0.01 * (k + 1), 5);
    });
  }, 480_000);
});
