/**
 * Ctrl-C as a terminal sends it (SIGINT to the whole process group: npm, sh and node) in the middle of an
 * epoch: the run stops within a step, writes that step's checkpoint, prints a "stopped" line and exits 130 (a
 * direct SIGTERM to node alone: the same, exit code 130 checked as node reports it);
 * `--resume` then goes on to the same losses as a run that was never interrupted. Also `distill --resume`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../testing/runCli';
import { writeRandomTeacher } from '../testing/teacherDir';

interface Line {
  kind: string;
  step?: number;
  stepInEpoch?: number;
  terms?: Record<string, number>;
}

const linesOf = (stdout: string): Line[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

const stepTerms = (lines: Line[]) => lines.filter((l) => l.kind === 'step').map((l) => l.terms!);

function expectSameLosses(actual: Record<string, number>[], expected: Record<string, number>[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((terms, i) => {
    for (const [name, value] of Object.entries(expected[i]!))
      expect(Math.abs(terms[name]! - value), `step ${i + 1} ${name}`).toBeLessThanOrEqual(
        1e-6 * Math.max(1, Math.abs(value)),
      );
  });
}

/**
 * `npm run cli -- ...args` in a process group of its own; sends SIGINT to the whole group once a step line
 * with step >= `interruptAt` is printed. Resolves with the exit code, the lines and the step seen at the signal.
 */
function interruptedRun(
  args: string[],
  interruptAt: number,
  how: { direct: boolean; signal: NodeJS.Signals } = { direct: false, signal: 'SIGINT' },
) {
  return new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    lines: Line[];
    signalledAt: number;
  }>((resolve, reject) => {
    const [command, prefix] = how.direct
      ? [process.execPath, ['--import', 'tsx', 'src/cli/main.ts']]
      : ['npm', ['run', '--silent', 'cli', '--']];
    const child = spawn(command, [...prefix, ...args], {
      cwd: REPO_ROOT,
      detached: true,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let signalledAt = -1;
    createInterface({ input: child.stdout }).on('line', (text) => {
      if (!text.startsWith('{')) return;
      const line = JSON.parse(text) as Line;
      lines.push(line);
      if (signalledAt < 0 && line.kind === 'step' && line.step! >= interruptAt) {
        signalledAt = line.step!;
        // The whole group as a terminal's Ctrl-C, or node alone (a `kill`).
        process.kill(how.direct ? child.pid! : -child.pid!, how.signal);
      }
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, signalledAt }));
  });
}

let tmp: string;
let teacherDir: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-interrupt-test-'));
  teacherDir = await writeRandomTeacher(join(tmp, 'teacher'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const TRAIN = ['--role', 'student', '--model', 'cnn-small', '--epochs', '1', '--batch', '32', '--seed', '3'];

describe('Ctrl-C and --resume', () => {
  it('Ctrl-C to the process group mid-epoch: a checkpoint within a step, "stopped", exit 130; --resume goes on to the same losses', async () => {
    const total = 8;
    const straight = await runCli(
      ['train', ...TRAIN, '--out', join(tmp, 'straight'), '--limit-steps', `${total}`],
      120_000,
    );
    expect(straight.code).toBe(0);
    const expected = stepTerms(linesOf(straight.stdout));
    expect(expected).toHaveLength(total);

    const out = join(tmp, 'interrupted');
    const stopped = await interruptedRun(['train', ...TRAIN, '--out', out], 3);
    // The shell's status 130: npm passes on node's exit 130, or (npm 10) ends by the SIGINT it got itself.
    expect(stopped.code === 130 || stopped.signal === 'SIGINT').toBe(true);
    const last = stopped.lines.at(-1)!;
    expect(last).toMatchObject({ kind: 'stopped', checkpoint: out });
    // The step under way when the signal came is finished and saved; nothing later.
    expect(last.stepInEpoch).toBeGreaterThanOrEqual(stopped.signalledAt);
    expect(last.stepInEpoch).toBeLessThanOrEqual(stopped.signalledAt + 2);
    expect(await readdir(out)).toContain('state.json');
    const before = stepTerms(stopped.lines);
    expect(before).toHaveLength(last.stepInEpoch!);

    const resumed = await runCli(
      ['train', '--resume', out, '--limit-steps', `${total - before.length}`],
      120_000,
    );
    expect(resumed.code).toBe(0);
    const resumedLines = linesOf(resumed.stdout);
    expect(resumedLines[0]).toMatchObject({ kind: 'start', resumedFromStep: before.length });
    expectSameLosses([...before, ...stepTerms(resumedLines)], expected);
  }, 300_000);

  it('SIGTERM to node alone: the same stop, exit code 130', async () => {
    const out = join(tmp, 'terminated');
    const stopped = await interruptedRun(['train', ...TRAIN, '--out', out], 2, {
      direct: true,
      signal: 'SIGTERM',
    });
    expect(stopped.code).toBe(130);
    expect(stopped.lines.at(-1)).toMatchObject({ kind: 'stopped', signal: 'SIGTERM', checkpoint: out });
    expect(stopped.lines.at(-1)!.stepInEpoch).toBeLessThanOrEqual(stopped.signalledAt + 2);
  }, 120_000);

  it('distill --resume DIR continues a distillation (method state included) to the same losses', async () => {
    const distill = ['distill', '--method', 'kd', '--teacher', teacherDir, '--batch', '32', '--epochs', '1'];
    const straight = await runCli(
      [...distill, '--out', join(tmp, 'kd-straight'), '--limit-steps', '4'],
      120_000,
    );
    expect(straight.code).toBe(0);
    const out = join(tmp, 'kd-parts');
    const first = await runCli([...distill, '--out', out, '--limit-steps', '2'], 120_000);
    expect(first.code).toBe(0);
    const second = await runCli(
      ['distill', '--resume', out, '--teacher', teacherDir, '--limit-steps', '2'],
      120_000,
    );
    expect(second.code).toBe(0);
    expect(linesOf(second.stdout)[0]).toMatchObject({ kind: 'start', method: 'kd', resumedFromStep: 2 });
    expectSameLosses(
      [...stepTerms(linesOf(first.stdout)), ...stepTerms(linesOf(second.stdout))],
      stepTerms(linesOf(straight.stdout)),
    );
    // Without its teacher, the distillation is refused by name.
    const orphan = await runCli(['distill', '--resume', out], 120_000);
    expect(orphan.code).toBe(1);
    expect(orphan.stderr).toContain('distils from a resnet20 teacher');
  }, 300_000);
});
