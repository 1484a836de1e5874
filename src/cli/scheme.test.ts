/**
 * `npm run cli -- scheme` as a user runs it (a child process): unknown kinds, wrong presets and bad values
 * refused by name before anything trains; a mutual-learning run of two students for a few steps prints each
 * step's terms under both models' names, writes a checkpoint for every model, and --resume goes on from it.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'distillery-scheme-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown> & { kind: string });

describe('npm run cli -- scheme: refusals', () => {
  it('names an unknown kind, a wrong preset and bad values', async () => {
    const cases: [string[], number, string][] = [
      [
        ['--kind', 'ensemble'],
        2,
        'unknown scheme kind "ensemble"; kinds: born-again, mutual, online, assistant',
      ],
      [
        ['--kind', 'born-again', '--models', 'vgg-fast'],
        2,
        'the born-again preset must be a student preset; vgg-fast is a teacher model',
      ],
      [
        ['--kind', 'online', '--models', 'cnn-small,resnet8'],
        2,
        "online's first model is the teacher; cnn-small is a student model",
      ],
      [['--kind', 'mutual', '--models', 'cnn-small,resnet9'], 2, 'unknown preset "resnet9" in --models'],
      [['--kind', 'mutual', '--models', 'cnn-small'], 2, '--models for mutual takes 2 to 4 presets; got 1'],
      [['--kind', 'born-again', '--generations', '6'], 2, '--generations must be between 2 and 5; got 6'],
      [['--kind', 'mutual', '--param', 'temperature=0'], 2, 'temperature must be between 0.5 and 20; got 0'],
      [['--kind', 'mutual', '--param', 'tau=2'], 2, 'unknown parameter "tau": valid are temperature, weight'],
      [['--kind', 'assistant'], 2, '--kind assistant needs --teacher DIR'],
      [['--kind', 'mutual', '--lr', '-1'], 1, 'learning rate must be between'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['scheme', ...args])));
    results.forEach((result, i) => {
      const [, code, message] = cases[i]!;
      expect(result.stderr, cases[i]![0].join(' ')).toContain(message);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe('');
    });
  }, 120_000);
});

describe('npm run cli -- scheme: a mutual-learning run', () => {
  it('prints every model’s terms under its name, checkpoints each model, and resumes', async () => {
    const out = join(dir, 'mutual');
    const args = [
      'scheme',
      '--kind',
      'mutual',
      '--models',
      'cnn-small,resnet8',
      '--epochs',
      '1',
      '--batch',
      '32',
    ];
    const first = await runCli([...args, '--limit-steps', '2', '--out', out], 120_000);
    expect(first.code, first.stderr).toBe(0);
    const logs = lines(first.stdout);
    expect(logs[0]).toMatchObject({ kind: 'start', scheme: 'mutual', params: { temperature: 1, weight: 1 } });
    const steps = logs.filter((l) => l.kind === 'step') as unknown as {
      step: number;
      models: Record<string, { terms: Record<string, number> }>;
    }[];
    expect(steps.map((s) => s.step)).toEqual([1, 2]);
    for (const s of steps) {
      expect(Object.keys(s.models)).toEqual(['student1', 'student2']);
      for (const { terms } of Object.values(s.models)) {
        expect(Object.keys(terms).sort()).toEqual(['ce', 'kl', 'total', 'weightDecay']);
        expect(terms.total).toBeCloseTo(terms.ce! + terms.kl! + terms.weightDecay!, 4);
      }
    }
    const done = logs.at(-1)!;
    expect(done).toMatchObject({ kind: 'done', finished: false, limitSteps: 2 });
    expect(Object.keys(done.testAccuracy as object)).toEqual(['student1', 'student2']);
    expect((await readdir(out)).sort()).toEqual(['scheme.json', 'student1', 'student2']);
    expect(await readdir(join(out, 'student2'))).toContain('weights.bin');

    const resumed = await runCli(['scheme', '--resume', out, '--limit-steps', '1'], 120_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    const next = lines(resumed.stdout).filter((l) => l.kind === 'step');
    expect(next.map((s) => s.step)).toEqual([3]);
  }, 240_000);
});
