/** The grid runners' plain parts: the report section splice, the statistics, the pool, the phase memo. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoIn, runPool } from './pool';
import { ProgressBoard } from './progress';
import { spliceSection } from './reportFiles';
import { spreadWords, statOf } from './summary';

describe('spliceSection', () => {
  it('appends a section to a file without one, then replaces only that section', () => {
    const first = spliceSection('# Results\n\nTheirs.\n', 'reproduce', 'Mine, v1.');
    expect(first).toMatch(
      /^# Results\n\nTheirs\.\n\n<!-- reproduce: start .*-->\n\nMine, v1\.\n\n<!-- reproduce: end -->\n$/,
    );
    const later = spliceSection(`${first}\n## After\n\nAlso theirs.\n`, 'reproduce', 'Mine, v2.');
    expect(later).toContain('Theirs.');
    expect(later).toContain('## After\n\nAlso theirs.');
    expect(later).toContain('Mine, v2.');
    expect(later).not.toContain('Mine, v1.');
    // Another command's section is a different block.
    expect(spliceSection(later, 'sweep', 'Grid.')).toContain('Mine, v2.');
  });
});

describe('statOf', () => {
  it('gives the mean and the sample standard deviation, none for one value, ignoring non-finite ones', () => {
    const s = statOf([0.5, 0.6, 0.7])!;
    expect(s.mean).toBeCloseTo(0.6, 12);
    expect(s.std).toBeCloseTo(0.1, 12); // sqrt((0.01 + 0 + 0.01) / 2)
    expect(statOf([0.4, Number.NaN])).toEqual({ mean: 0.4, std: null, n: 1 });
    expect(statOf([])).toBeNull();
  });

  it('says whether a difference exceeds the seeds’ spread', () => {
    const a = statOf([0.5, 0.52])!;
    const b = statOf([0.4, 0.42])!;
    expect(spreadWords(a, b)).toMatch(/^larger than/);
    expect(spreadWords(a, statOf([0.49, 0.53])!)).toMatch(/^within/);
    expect(spreadWords(statOf([0.5])!, b)).toBe('one seed each, so no spread was measured');
  });
});

describe('runPool', () => {
  it('runs at most N at a time, keeps results in order, and starts nothing after stop', async () => {
    let active = 0;
    let peak = 0;
    const results = await runPool([30, 10, 20, 5], 2, async (ms, i) => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, ms));
      active -= 1;
      return i * 10;
    });
    expect(results).toEqual([0, 10, 20, 30]);
    expect(peak).toBe(2);
    let started = 0;
    const stopped = await runPool(
      [1, 2, 3],
      1,
      async () => ++started,
      () => started >= 1,
    );
    expect(stopped).toEqual([1, undefined, undefined]);
  });
});

describe('memoIn', () => {
  it('keeps a finished phase for the same settings only, and keeps nothing for a failed one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'distillery-memo-'));
    try {
      let calls = 0;
      const phase = () => Promise.resolve(++calls);
      expect(await memoIn(dir, { seed: 1 })('distill', phase)).toBe(1);
      expect(await memoIn(dir, { seed: 1 })('distill', phase)).toBe(1);
      expect(await memoIn(dir, { seed: 2 })('distill', phase)).toBe(2);
      expect(JSON.parse(await readFile(join(dir, 'distill.json'), 'utf8'))).toEqual({
        settings: { seed: 2 },
        result: 2,
      });
      await expect(memoIn(dir, {})('ood', () => Promise.reject(new Error('broke')))).rejects.toThrow('broke');
      await expect(readFile(join(dir, 'ood.json'))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ProgressBoard', () => {
  const sink = (isTTY: boolean) => {
    const written: string[] = [];
    const stream = { isTTY, columns: 40, write: (s: string) => written.push(s) > 0 };
    return { written, stream: stream as unknown as NodeJS.WriteStream };
  };

  it('into a file: a job’s line again only on a new phase or after the interval', () => {
    let now = 0;
    const { written, stream } = sink(false);
    const board = new ProgressBoard(stream, 15_000, () => now);
    board.update('a', 'a: starting', 'start');
    board.update('a', 'a: step 1', 'training');
    now = 5_000;
    board.update('a', 'a: step 2', 'training'); // same phase, too soon: not printed
    board.update('b', 'b: starting', 'start');
    now = 15_000;
    board.update('a', 'a: step 9', 'training');
    board.update('a', 'a: done', 'done');
    expect(written.join('')).toBe('a: starting\na: step 1\nb: starting\na: step 9\na: done\n');
  });

  it('on a terminal: one line per job, redrawn in place', () => {
    const { written, stream } = sink(true);
    const board = new ProgressBoard(stream);
    board.update('a', 'a: starting', 'start');
    board.update('b', 'b: starting', 'start');
    board.update('a', 'a: step 1', 'training');
    // Each redraw moves up over the lines drawn before and clears them.
    expect(written.slice(-2)).toEqual(['\x1b[2F\x1b[J', 'a: step 1\nb: starting\n']);
  });
});
