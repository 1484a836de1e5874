import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli';
import { writeRandomTeacher } from '../testing/teacherDir';
import { decodeMethodCheckpoint } from '../engine/distill/methodCheckpoint';
import { DISTILL_METHODS } from '../engine/distill/registry';
import { checkArchitecture, loadModel } from '../engine/training/checkpoint';
import { folderStore } from './checkpointDir';

const cli = (...args: string[]) => runCli(args, 90_000);

let tmp: string;
let teacherDir: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-distill-cli-test-'));
  // A teacher in the tfjs format, made here: resnet20 (the cheapest teacher preset), seeded random weights.
  teacherDir = await writeRandomTeacher(join(tmp, 'teacher'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const methodIds = DISTILL_METHODS.map((m) => m.id).join(', ');

describe('npm run cli -- distill: refusals', () => {
  it('refuses an unknown method by listing the valid ones (usage: exit 2)', async () => {
    const result = await cli('distill', '--method', 'hinton', '--teacher', teacherDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: unknown distillation method "hinton"; methods: ${methodIds}`);
    expect(result.stderr).toContain('npm run cli -- distill --method NAME');
    expect(result.stdout).toBe('');
  });

  it('refuses an unknown parameter by listing the method’s parameters (usage: exit 2)', async () => {
    const result = await cli('distill', '--method', 'kd', '--param', 'tau=2', '--teacher', teacherDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: unknown parameter "tau": valid are temperature, alpha');
    const malformed = await cli(
      'distill',
      '--method',
      'kd',
      '--param',
      'temperature',
      '--teacher',
      teacherDir,
    );
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('error: --param takes name=value; got "temperature"');
  });

  it('refuses T = 0 naming the range (a bad value: exit 1), every bad value at once', async () => {
    const result = await cli(
      'distill',
      '--method',
      'kd',
      '--param',
      'temperature=0',
      '--teacher',
      teacherDir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: temperature must be between 0.5 and 20; got 0');
    expect(result.stdout).toBe('');
    const both = await cli(
      'distill',
      '--method',
      'akd',
      '--param',
      'anchorsPerClass=1.5',
      '--param',
      'lambda2=-1',
      '--teacher',
      teacherDir,
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(
      'error: anchorsPerClass must be a whole number between 1 and 10; got 1.5; lambda2 must be between 0 and 1; got -1',
    );
  });

  it('needs a teacher (but not for ce), a student preset and a label fraction in range', async () => {
    expect((await cli('distill', '--method', 'kd')).stderr).toContain('error: distill needs --teacher DIR');
    const teacherAsStudent = await cli('distill', '--method', 'ce', '--student', 'resnet20');
    expect(teacherAsStudent.code).toBe(2);
    expect(teacherAsStudent.stderr).toContain(
      'error: preset resnet20 is a teacher model, not a student; students: cnn-small, resnet8',
    );
    const labelled = await cli('distill', '--method', 'ce', '--labelled', '1.5');
    expect(labelled.code).toBe(1);
    expect(labelled.stderr).toContain('error: labelled fraction must be between 0 and 1; got 1.5');
    const student = await cli('distill', '--method', 'kd', '--teacher', join(tmp, 'nowhere'));
    expect(student.code).toBe(1);
    expect(student.stderr).toContain(`error: ${join(tmp, 'nowhere', 'model.json')}: cannot read (ENOENT)`);
  });
});

describe('npm run cli -- distill: a run', () => {
  it('distils with KD on the embedded set: JSON lines with every term, a checkpoint with the method’s files', async () => {
    const out = join(tmp, 'kd-run');
    const result = await cli(
      'distill',
      '--method',
      'kd',
      '--param',
      'temperature=2',
      '--teacher',
      teacherDir,
      '--student',
      'cnn-small',
      '--epochs',
      '1',
      '--labelled',
      '0.2',
      '--set',
      'embedded',
      '--limit-steps',
      '3',
      '--out',
      out,
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({
      kind: 'start',
      backend: 'wasm',
      set: 'embedded',
      trainSize: 10_000,
      method: 'kd',
      params: { temperature: 2, alpha: 0.9 },
      labelledFraction: 0.2,
      labelledCount: 2000,
      teacher: { dir: teacherDir, preset: 'resnet20' },
      student: 'cnn-small',
      out,
      // With a second core the teacher's pass runs a batch ahead on a worker thread (teacherThread.ts).
      teacherAhead: availableParallelism() >= 2,
    });
    expect(result.stderr).not.toContain('the teacher runs on the training thread');
    const steps = lines.filter((l) => l.kind === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    for (const step of steps) {
      const terms = step.terms as Record<string, number>;
      expect(Object.keys(terms)).toEqual(['ce', 'soft', 'weightDecay', 'total']);
      expect(Object.values(terms).every(Number.isFinite)).toBe(true);
    }
    const done = lines.at(-1)!;
    expect(done).toMatchObject({ kind: 'done', epoch: 0, stepInEpoch: 3, limitSteps: 3, checkpoint: out });
    expect(done.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(done.msPerStep).toBeGreaterThan(0);

    expect((await readdir(out)).sort()).toEqual([
      'lab.json',
      'method.bin',
      'method.json',
      'model.json',
      'optimizer.bin',
      'optimizer.json',
      'state.json',
      'weights.bin',
    ]);
    // The student is a plain cnn-small in the tfjs format: the method's state is in method.*, not model.json.
    const store = folderStore(out);
    const modelJson = await store.read('model.json');
    expect(new TextDecoder().decode(modelJson)).not.toContain('method');
    const { model, metadata } = await loadModel(modelJson, await store.read('weights.bin'));
    expect(metadata).toMatchObject({ preset: 'cnn-small', role: 'student' });
    checkArchitecture(model, 'cnn-small');
    model.dispose();
    const { checkpoint, state } = decodeMethodCheckpoint(
      await store.read('method.json'),
      await store.read('method.bin'),
    );
    expect(checkpoint).toMatchObject({
      method: 'kd',
      params: { temperature: 2, alpha: 0.9 },
      labelledFraction: 0.2,
      teacher: { preset: 'resnet20', source: teacherDir },
    });
    expect(state).toEqual({});
    const runState = JSON.parse(await readFile(join(out, 'state.json'), 'utf8'));
    expect(runState.config).toMatchObject({ role: 'student', model: 'cnn-small', epochs: 1 });
    expect(runState.state.steps).toHaveLength(3);
    expect(tf.getBackend()).toBe('cpu');
  });
});
