/** The tfjs backends the lab can run on, by id (the URL's ?backend=, the CLI's --backend, the badge). */

export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const isBackendName = (value: unknown): value is BackendName =>
  typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
