/**
 * `npm run cli -- reproduce` and `sweep` as a person runs them, on a tiny budget: real child processes
 * (distill, ood) from the shipped teacher on the embedded set, a few steps each.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../testing/runCli';
import type { ReproduceRecord } from './reproduceReport';
import type { SweepRecord } from './sweepReport';

const cli = (...args: string[]) => runCli(args, 150_000);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-grid-cli-test-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const inUnit = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;

/**
 * The teacher's anchors for u(x) given up front through `ood --anchors-cache` (the first training image of each
 * class), so that the test skips the teacher's pass over 10,000 training images; the analysis itself is real.
 */
async function seedAnchors(work: string): Promise<number[]> {
  const weights = await readFile(join(REPO_ROOT, 'public', 'teacher', 'weights.bin'));
  const train = await readFile(join(REPO_ROOT, 'public', 'data', 'embedded', 'train.bin'));
  const indices: number[] = [];
  for (let c = 0; c < 10; c += 1) {
    let i = 0;
    while (train[i * 3073] !== c) i += 1;
    indices.push(i);
  }
  await mkdir(work, { recursive: true });
  await writeFile(
    join(work, 'teacher-anchors-embedded.json'),
    JSON.stringify({
      teacherWeights: createHash('sha256').update(weights).digest('hex'),
      trainCount: train.length / 3073,
      indices,
    }),
  );
  return indices;
}

describe('npm run cli -- reproduce', () => {
  it('refuses an unknown method and a bad --jobs before starting anything', async () => {
    const method = await cli('reproduce', '--methods', 'ce,hinton', '--out', join(tmp, 'never'));
    expect(method.code).toBe(2);
    expect(method.stderr).toContain('error: unknown method hinton; methods: ce, kd,');
    const jobs = await cli('reproduce', '--jobs', '0', '--out', join(tmp, 'never'));
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toContain('error: --jobs must be a whole number >= 1; got 0');
  });

  it('runs method x seed in child processes, writes the tables, and resumes keeping finished runs', async () => {
    const out = join(tmp, 'results');
    const work = join(tmp, 'reproduce-work');
    await seedAnchors(work);
    // Someone else's section of the same file stays.
    await writeFile(`${out}.md`, '# Results\n\nA trust-panel section that must stay.\n');
    const base = ['reproduce', '--seeds', '1', '--limit-steps', '2', '--out', out, '--work', work];

    const first = await cli(...base, '--methods', 'ce,kd', '--jobs', '2');
    expect(first.stderr).not.toContain('error');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/\[1\/2\] ce seed 1: done in \d+ s/);
    expect(first.stderr).toMatch(/\[2\/2\] kd seed 1: epoch 1\/\d+ step 1\/157/);
    const ceDone = await stat(join(work, 'ce-seed1', 'ood.json'));
    const kdTrained = await stat(join(work, 'kd-seed1', 'distill.json'));

    // The same command again: every run is kept (each phase's result file), nothing is trained or analysed.
    const second = await cli(...base, '--methods', 'ce,kd', '--jobs', '2');
    expect(second.stderr).not.toContain('error');
    expect(second.code).toBe(0);
    expect(second.stderr.match(/done \(kept from an earlier run\)/g)).toHaveLength(2);
    expect(second.stderr).not.toMatch(/epoch|OoD analysis/);
    expect((await stat(join(work, 'ce-seed1', 'ood.json'))).mtimeMs).toBe(ceDone.mtimeMs);
    expect((await stat(join(work, 'kd-seed1', 'distill.json'))).mtimeMs).toBe(kdTrained.mtimeMs);

    const record = JSON.parse(await readFile(`${out}.json`, 'utf8')) as ReproduceRecord;
    expect(record.settings).toMatchObject({
      methods: ['ce', 'kd'],
      seeds: [1],
      limitSteps: 2,
      ood: ['mnist'],
    });
    expect(record.failed).toEqual([]);
    // The wall time is the first call's: the second one only kept results.
    expect(record.calls).toHaveLength(1);
    expect(record.calls[0]).toMatchObject({ jobs: 2, ran: 2 });
    expect(record.calls[0]!.wallSeconds).toBeGreaterThan(0);
    expect(record.runs.map((r) => r.method).sort()).toEqual(['ce', 'kd']);
    for (const run of record.runs) {
      expect(run.training.steps).toBe(2);
      expect(inUnit(run.training.testAccuracy!)).toBe(true);
      expect(run.training.msPerStep).toBeGreaterThan(0);
      expect(inUnit(run.ood.ece)).toBe(true);
      // The ood command's accuracy is the distill command's test accuracy (same weights, same test split).
      expect(run.ood.accuracy).toBeCloseTo(run.training.testAccuracy!, 6);
      for (const score of ['anchorU', 'entropy', 'msp'])
        expect(inUnit(run.ood.auroc.mnist![score]!)).toBe(true);
      expect(run.ood.anchors).toMatch(/\(10, stored with the teacher\)/);
    }
    const kd = record.summary.find((s) => s.method === 'kd')!;
    const ce = record.summary.find((s) => s.method === 'ce')!;
    expect(kd.costVsKd).toBe(1);
    expect(ce.costVsKd).toBeCloseTo(ce.msPerStep!.mean / kd.msPerStep!.mean, 9);
    expect(ce.top1!.mean).toBe(record.runs.find((r) => r.method === 'ce')!.training.testAccuracy);
    expect(ce.top1!.std).toBeNull(); // one seed: no spread

    const md = await readFile(`${out}.md`, 'utf8');
    expect(md).toContain('A trust-panel section that must stay.');
    expect(md).toContain('npm run cli -- reproduce --seeds 1 --limit-steps 2');
    expect(md).toMatch(new RegExp(`\\| ce +\\| +1 \\| +${(ce.top1!.mean * 100).toFixed(1)}% \\|`));
    expect(md).toContain('- (a) KD vs CE: kd ');
    expect(md).toContain('- (b) AKD vs PKT: not measured');
    expect(md).toMatch(
      /- \(c\) anchor uncertainty vs entropy \(OoD AUROC\): on mnist anchor u is higher for \d of 2 methods/,
    );
    expect(md.match(/<!-- reproduce: start/g)).toHaveLength(1);
  }, 300_000);
});

describe('npm run cli -- sweep', () => {
  it('refuses a temperature outside KD’s range, naming it', async () => {
    const result = await cli('sweep', '--temperatures', '0,4', '--out', join(tmp, 'never'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: temperature must be between 0.5 and 20; got 0');
  });

  it('runs a 2 x 2 grid and the ce baseline, names the best cell, and resumes', async () => {
    const out = join(tmp, 'sweep');
    const work = join(tmp, 'sweep-work');
    const args = ['sweep', '--temperatures', '1,4', '--alphas', '0.1,0.9', '--limit-steps', '2'];
    const first = await cli(...args, '--jobs', '2', '--out', out, '--work', work);
    expect(first.stderr).not.toContain('error');
    expect(first.code).toBe(0);
    const record = JSON.parse(await readFile(`${out}.json`, 'utf8')) as SweepRecord;
    expect(record.cells.map((c) => [c.temperature, c.alpha])).toEqual([
      [1, 0.1],
      [1, 0.9],
      [4, 0.1],
      [4, 0.9],
    ]);
    for (const cell of record.cells) {
      expect(cell.training.params).toEqual({ temperature: cell.temperature, alpha: cell.alpha });
      expect(cell.training.steps).toBe(2);
      expect(inUnit(cell.training.testAccuracy!)).toBe(true);
    }
    expect(record.baseline!.params).toEqual({});
    expect(inUnit(record.baseline!.testAccuracy!)).toBe(true);
    const top = Math.max(...record.cells.map((c) => c.training.testAccuracy!));
    expect(record.best!.testAccuracy).toBe(top);
    const md = await readFile(`${out}.md`, 'utf8');
    expect(md).toContain(`Best cell: T = ${record.best!.temperature}, alpha = ${record.best!.alpha}`);
    expect(md).toMatch(/\| +4 \| .*\| .*\|/);

    const again = await cli(...args, '--jobs', '2', '--out', out, '--work', work);
    expect(again.code).toBe(0);
    expect(again.stderr.match(/done \(kept from an earlier run\)/g)).toHaveLength(5);
    const kept = JSON.parse(await readFile(`${out}.json`, 'utf8')) as SweepRecord;
    expect(kept.cells).toEqual(record.cells);
  }, 300_000);
});
