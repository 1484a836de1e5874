import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// wasm threads need SharedArrayBuffer, which needs a cross-origin-isolated page (DESIGN.md section 5).
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation },
  worker: {
    format: 'es',
    rolldownOptions: {
      // tfjs-backend-wasm starts its threads from `factory.toString()`; minifying renames or moves variables
      // that function reads from its closure, and the thread's blob then fails ("e is not defined",
      // "_scriptDir is not defined"). The Worker loads once, off the main thread, so size matters little.
      output: { minify: false },
    },
  },
  optimizeDeps: {
    // Scan the Worker too, so that tfjs is pre-bundled when `npm start` starts, not discovered at the first
    // visit (which would re-bundle and reload the page under the user). Pre-bundling also turns the CommonJS
    // files of tfjs-backend-wasm (its thread script) into ES modules: served raw, wasm fails to start under
    // the dev server and the lab falls back to plain JavaScript. Its .wasm files are passed by URL
    // (engine.worker.ts), so they are found wherever the bundle lives.
    entries: ['index.html', 'src/worker/engine.worker.ts'],
  },
  build: {
    target: 'es2022',
    // tfjs is large by nature; the split is per backend already.
    chunkSizeWarningLimit: 4000,
  },
});
