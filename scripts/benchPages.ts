/**
 * The browser side of the wasm benchmarks (bench-threads.ts, bench-teacher-ahead.ts): the production build,
 * served twice by Vite's preview server, once as `npm run preview` serves it (cross-origin isolated, so wasm
 * runs with one thread per logical core) and once without the isolation headers (no SharedArrayBuffer: tfjs's
 * single-threaded wasm, as a static host without the headers gives it), each open on `?backend=wasm` in
 * Chromium (Debian's where installed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { type PreviewServer, preview } from 'vite';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * How long the pages are left alone once ready, before anything is timed. For its first seconds the threaded page
 * is busy with something of its own (tfjs's 8 pthread Workers starting, or wasm code compiled up a tier on the
 * cores the steps need): cnn-small's first round took 88 and 71 ms/step when timed at once, 39-40 after 3 s or
 * more (docs/benchmarks.md, seventh session). Timed at once, round 1 measures that, not the step.
 */
const SETTLE_MS = 5000;

export type PageKind = 'threads' | 'single';

/** Builds, serves and opens both pages (ports: the isolated one's, and the next); `close` ends it all. */
export async function openBenchPages(
  port: number,
): Promise<{ pages: Record<PageKind, Page>; close: () => Promise<void> }> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // The project's config (isolation headers), and a bare one: the same dist/ without the headers.
  const isolated = await preview({ root: ROOT, preview: { port, strictPort: true } });
  const plain = await preview({
    root: ROOT,
    configFile: false,
    build: { outDir: 'dist' },
    preview: { port: port + 1, strictPort: true },
  });
  const executablePath = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
  const browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}) });
  const close = async () => {
    await browser.close();
    await isolated.close();
    await plain.close();
  };
  try {
    const urlOf = (server: PreviewServer) => server.resolvedUrls!.local[0]!;
    const pages: Record<PageKind, Page> = {
      threads: await browser.newPage(),
      single: await browser.newPage(),
    };
    for (const [name, server] of [
      ['threads', isolated],
      ['single', plain],
    ] as const) {
      const page = pages[name];
      await page.goto(`${urlOf(server)}?backend=wasm`);
      await page.waitForSelector('[data-testid=backend-badge][data-status=ready]', { timeout: 60_000 });
      const adapter = await page.textContent('[data-testid=backend-adapter]');
      console.log(
        `${name}: ${adapter} (crossOriginIsolated: ${await page.evaluate(() => crossOriginIsolated)})`,
      );
    }
    await new Promise((settled) => setTimeout(settled, SETTLE_MS));
    return { pages, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
