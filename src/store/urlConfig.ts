/**
 * The lab's shareable settings, declared once and kept in the URL query (a shared link reproduces the setup,
 * as in tensorflow/playground). Parsing is pure so it is unit-tested; bad values are reported, not ignored.
 */
import { BACKEND_NAMES, type BackendName, isBackendName } from '../engine/backend/chooseBackend';
import { isPreparedSetId, PREPARED_SET_IDS, type PreparedSetId } from '../engine/data/prepared';

export interface UrlConfig {
  /** undefined = choose automatically. */
  readonly backend: BackendName | undefined;
  readonly set: PreparedSetId;
}

export const DEFAULT_CONFIG: UrlConfig = { backend: undefined, set: 'embedded' };

export function parseUrlConfig(search: string): { config: UrlConfig; problems: string[] } {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  const backendParam = params.get('backend');
  const setParam = params.get('set');
  let backend = DEFAULT_CONFIG.backend;
  let set = DEFAULT_CONFIG.set;
  if (backendParam !== null && backendParam !== 'auto') {
    if (isBackendName(backendParam)) backend = backendParam;
    else
      problems.push(
        `?backend=${backendParam} is not a backend; use one of auto, ${BACKEND_NAMES.join(', ')}`,
      );
  }
  if (setParam !== null) {
    if (isPreparedSetId(setParam)) set = setParam;
    else problems.push(`?set=${setParam} is not a dataset; use one of ${PREPARED_SET_IDS.join(', ')}`);
  }
  return { config: { backend, set }, problems };
}

/** The query string for a config, leaving unrelated parameters as they were; defaults are left out. */
export function formatUrlConfig(config: UrlConfig, search = ''): string {
  const params = new URLSearchParams(search);
  if (config.backend) params.set('backend', config.backend);
  else params.delete('backend');
  if (config.set !== DEFAULT_CONFIG.set) params.set('set', config.set);
  else params.delete('set');
  const query = params.toString();
  return query ? `?${query}` : '';
}
