/**
 * The import fence of eslint.config.js, checked on small sources as if they were files of the tree: the UI and
 * the store reach the engine only through src/engine/config/ and the Worker protocol; the contract folder stays
 * tfjs-free and self-contained; the engine keeps no browser storage. A regex typo in the rule fails here, not
 * silently.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

/** The rules that fired on `code` placed at `filePath`. */
async function firedOn(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

const restricted = (rules: string[]) => rules.filter((r) => r.startsWith('no-restricted-'));

describe('the import fence', () => {
  it('lets the UI and the store import the contract folder and the protocol', async () => {
    const code = [
      "import { formatCount } from '../engine/config/format';",
      "import type { EngineApi } from '../worker/protocol';",
      'export const f = (api: EngineApi) => [api, formatCount(1)];',
    ].join('\n');
    expect(restricted(await firedOn('src/ui/Fence.tsx', code))).toEqual([]);
    expect(restricted(await firedOn('src/store/fence.ts', code))).toEqual([]);
  });

  it('refuses the rest of the engine, the Worker entry and tfjs in the UI and the store', async () => {
    for (const source of [
      "import { formatCount } from '../engine/data/cifar10';",
      "import { LabSession } from '../engine';",
      "import { findMethod } from '../../engine/distill/registry';",
      "import { api } from '../worker/engine.worker';",
      "import * as tf from '@tensorflow/tfjs';",
    ]) {
      const code = `${source}\nexport const x = 1;`;
      expect(restricted(await firedOn('src/ui/Fence.tsx', code)), source).toEqual(['no-restricted-imports']);
      expect(restricted(await firedOn('src/store/history/fence.ts', code)), source).toEqual([
        'no-restricted-imports',
      ]);
    }
  });

  it('keeps the contract folder free of tfjs and of the rest of the engine', async () => {
    expect(restricted(await firedOn('src/engine/config/x.ts', "export { z } from 'zod';"))).toEqual([]);
    for (const source of [
      "export * as tf from '@tensorflow/tfjs';",
      "export { loadPreparedSet } from '../data/prepared';",
    ])
      expect(restricted(await firedOn('src/engine/config/x.ts', source)), source).toEqual([
        'no-restricted-imports',
      ]);
  });

  it('keeps browser storage out of the engine', async () => {
    expect(restricted(await firedOn('src/engine/training/x.ts', "export { openDB } from 'idb';"))).toEqual([
      'no-restricted-imports',
    ]);
    expect(
      restricted(await firedOn('src/engine/training/x.ts', "export const open = () => indexedDB.open('x');")),
    ).toEqual(['no-restricted-globals']);
  });
});
