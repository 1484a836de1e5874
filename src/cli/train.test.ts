import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli';
import { initBackend } from '../engine/backend/initBackend';
import { findPreset } from '../engine/models/presets';
import { modelFiles, modelMetadata } from '../engine/training/checkpoint';
import { evaluateModel } from '../engine/training/trainer';
import { folderStore } from './checkpointDir';
import { loadPreparedFromDisk } from './dataFiles';

const cli = (...args: string[]) => runCli(args);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'distillery-train-cli-test-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm run cli -- train: refusals', () => {
  it('refuses a negative learning rate, naming the range, before any training output', async () => {
    // `--lr -1` (the value after a space) must reach the range check, not parseArgs' "ambiguous" refusal.
    const result = await cli(
      'train',
      '--role',
      'student',
      '--model',
      'cnn-small',
      '--lr',
      '-1',
      '--out',
      tmp,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: learning rate must be between 0.000001 and 10');
    expect(result.stdout).toBe('');
  });

  it('lists every bad setting at once, non-numbers included', async () => {
    const result = await cli(
      'train',
      '--role',
      'student',
      '--model',
      'cnn-small',
      '--lr',
      'fast',
      '--epochs',
      '0',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: epochs must be between 1 and 1,000; learning rate must be a number between 0.000001 and 10',
    );
  });

  it('refuses an unknown preset by listing the valid ones', async () => {
    const result = await cli('train', '--role', 'student', '--model', 'nope');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'unknown model preset "nope"; presets: vgg-bn, vgg-fast, resnet20, cnn-small, resnet8',
    );
    expect(result.stdout).toBe('');
  });
});

describe('npm run cli -- eval', () => {
  it('prints one JSON line for a checkpoint folder: the same accuracy as in-process, on 2,000 test images', async () => {
    const report = await initBackend('wasm');
    expect(report.backend).toBe('wasm');
    const model = findPreset('cnn-small').build(5);
    const dir = join(tmp, 'cnn-small');
    await folderStore(dir).write(await modelFiles(model, modelMetadata(model, 'cnn-small', 'student')));

    const [result, dataset] = await Promise.all([
      cli('eval', '--checkpoint', dir),
      loadPreparedFromDisk('embedded'),
    ]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(out).toMatchObject({
      kind: 'eval',
      checkpoint: dir,
      model: 'cnn-small',
      set: 'embedded',
      split: 'test',
      total: 2000,
      backend: 'wasm',
    });
    const accuracy = out.accuracy as number;
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
    expect(out.correct).toBe(Math.round(accuracy * 2000));
    // The saved model is the model: the same count as evaluating it here.
    const here = await evaluateModel(model, dataset.test);
    expect(out.correct).toBe(here.correct);
    model.dispose();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('refuses a folder without a model, naming the file', async () => {
    const result = await cli('eval', '--checkpoint', join(tmp, 'missing'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${join(tmp, 'missing', 'model.json')}: cannot read (ENOENT)`);
  });
});
