/// <reference lib="webworker" />
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as Comlink from 'comlink';
import { LabSession } from '../engine/session';
import type { EngineApi } from './protocol';

/** Prepared data is served beside the app, under <base>/data/. */
async function readPreparedFile(path: string): Promise<Uint8Array> {
  const url = new URL(`${import.meta.env.BASE_URL}data/${path}`, self.location.origin);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `${url.pathname}: ${response.status} ${response.statusText}; run \`npm run data\` to prepare it`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

const session = new LabSession({
  readPreparedFile,
  wasmPaths: {
    'tfjs-backend-wasm.wasm': wasmPlainUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
  },
});

const api: EngineApi = {
  initBackend: (requested) => session.initBackend(requested),
  usePreparedSet: (id) => session.usePreparedSet(id),
  async useUploads(files) {
    const read = await Promise.all(
      files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
    );
    return session.useUploads(read);
  },
  async samples(count, seed) {
    const samples = session.samples(count, seed);
    return Comlink.transfer(
      samples,
      samples.map((s) => s.rgba.buffer as ArrayBuffer),
    );
  },
};

Comlink.expose(api);
