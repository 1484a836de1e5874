/**
 * One CLI command as a child process of its own (`node --import tsx src/cli/main.ts ...`), its JSON lines handed
 * over as they come. The grid runners (reproduce, sweep, scripts/check-defaults.ts) run every training this
 * way, so each table row is exactly what a person running that CLI command gets, and N of them run on N cores.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface ChildResult {
  /** Exit status; 130 after Ctrl-C / SIGTERM, 1 on an error. */
  readonly code: number;
  /** Every JSON object it printed on stdout, in order. */
  readonly lines: readonly Record<string, unknown>[];
  /** The last stderr it wrote (for the message of a failure). */
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

/** Passes a signal on to every child still running (Ctrl-C in a terminal reaches them anyway). */
export function signalChildren(signal: NodeJS.Signals): void {
  for (const child of running) child.kill(signal);
}

/** The command as a person would type it. */
export const cliCommandText = (args: readonly string[]): string =>
  `npm run cli -- ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}`;

/** Runs `npm run cli -- ...args` as a child process; never rejects on a non-zero exit. */
export function runCliChild(
  args: readonly string[],
  onLine: (line: Record<string, unknown>) => void = () => undefined,
): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: CLI_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const lines: Record<string, unknown>[] = [];
    let pending = '';
    let stderr = '';
    const take = (text: string) => {
      if (!text.startsWith('{')) return;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return; // a table or a message, not a JSON line
      }
      lines.push(record);
      onLine(record);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      parts.forEach(take);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('error', (error) => {
      running.delete(child);
      fail(error);
    });
    child.on('close', (status, signal) => {
      running.delete(child);
      take(pending);
      done({ code: status ?? (signal ? 130 : 1), lines, stderr: stderr.trim() });
    });
  });
}

/** The stderr's `error: ...` line of a failed child, or its last line. */
export const failureOf = (result: ChildResult): string =>
  result.stderr
    .split('\n')
    .find((l) => l.startsWith('error:'))
    ?.slice('error: '.length) ??
  (result.stderr.split('\n').at(-1) || `exit status ${result.code}`);
