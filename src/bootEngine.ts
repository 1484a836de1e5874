/**
 * Loaded by index.html before the UI: a module with a small import graph, so the engine Worker (tfjs, the
 * backend, the data) starts loading while the browser is still fetching and rendering the React app. Under the
 * dev server, where each module is its own request, this is most of what keeps Distillation's Start within
 * 3 s of the first paint. main.tsx gets the same Worker (one module instance per URL).
 */
import { getEngine } from './store/engineClient';
import { reportError } from './store/stores';

getEngine(reportError);
