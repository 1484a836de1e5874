import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    // wasm/cpu tensor tests are CPU-heavy; two cores, so keep files from competing for them.
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
