import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// Debian's Chromium where it is installed (CI, this project's machines); Playwright's own browser elsewhere.
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const executablePath =
  process.env.CHROMIUM_PATH ?? (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined);

// Both ways the README serves the lab are tested: the production build (`npm run build && npm run preview`,
// as a static host gets it) and the dev server (`npm start`). The ports can be moved (E2E_BUILD_PORT,
// E2E_DEV_PORT) so that two checkouts can run their suites side by side.
const BUILD_PORT = Number(process.env.E2E_BUILD_PORT ?? 4173);
const DEV_PORT = Number(process.env.E2E_DEV_PORT ?? 5173);
const devCommand =
  DEV_PORT === 5173 ? 'npm start' : `npm run data && npx vite --port ${DEV_PORT} --strictPort`;
const buildCommand = `npm run build && npx vite preview --port ${BUILD_PORT} --strictPort`;

export default defineConfig({
  testDir: 'e2e',
  // Two cores: one browser at a time keeps timings honest and avoids starving the wasm threads.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    trace: 'retain-on-failure',
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: [
        // WebGPU is behind a flag on Linux; here the adapter is SwiftShader (DESIGN.md section 5).
        '--enable-unsafe-webgpu',
        // The machine has no network: stop Chromium's background calls home.
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
  },
  projects: [
    // Every spec against the production build.
    { name: 'build', use: { baseURL: `http://localhost:${BUILD_PORT}` }, testIgnore: /\.dev\.spec\.ts$/ },
    // What `npm start` serves: specs named *.dev.spec.ts.
    { name: 'dev', use: { baseURL: `http://localhost:${DEV_PORT}` }, testMatch: /\.dev\.spec\.ts$/ },
  ],
  webServer: [
    {
      command: buildCommand,
      url: `http://localhost:${BUILD_PORT}`,
      reuseExistingServer: !process.env.CI,
      timeout: 240_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: devCommand,
      url: `http://localhost:${DEV_PORT}`,
      reuseExistingServer: !process.env.CI,
      timeout: 240_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
