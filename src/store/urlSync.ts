/**
 * Keeps the URL and the lab's configuration together (urlConfig.ts has the format): at start-up the link's
 * distillation form is applied once the methods and presets are known; from then on every edit is written back
 * (history.replaceState, debounced, no history entries), and "Copy link" copies it.
 */
import { CONFIG_SETTINGS } from '../engine/config/training';
import { checkParams } from './distillForm';
import { liveRun } from './distillState';
import { useDistillStore } from './distillStores';
import { reportError, useBackendStore, useDatasetStore } from './stores';
import { usePresetStore } from './trainingStores';
import { settingProblem } from './trainForm';
import { distillFromUrl, distillToUrl, formatUrlConfig, parseUrlConfig } from './urlConfig';

/** How long the URL waits for typing to settle before it is rewritten. */
export const URL_WRITE_DELAY_MS = 300;

/** Whether the link's distillation form has been applied: until then the URL's form is left as the link gave it. */
let restored = false;
let pending: ReturnType<typeof setTimeout> | null = null;

/** Writes the current configuration into the address bar now (no new history entry). */
export function writeUrlNow(): void {
  if (pending !== null) clearTimeout(pending);
  pending = null;
  const { search, pathname, hash } = window.location;
  const backend = useBackendStore.getState().requested;
  const { source } = useDatasetStore.getState();
  const set = source === 'upload' ? parseUrlConfig(search).config.set : source;
  const distill = restored ? distillToUrl(useDistillStore.getState()) : undefined;
  const query = formatUrlConfig({ backend, set, ...(distill ? { distill } : {}) }, search);
  if (query !== search) window.history.replaceState(window.history.state, '', `${pathname}${query}${hash}`);
}

function scheduleUrlWrite(): void {
  if (pending !== null) clearTimeout(pending);
  pending = setTimeout(writeUrlNow, URL_WRITE_DELAY_MS);
}

/**
 * Applies the link's distillation form (method, parameters, student, settings, labels) once the methods and
 * the presets have arrived, names what it ignores in the problems list, then follows every edit into the URL.
 * A run restored from an earlier visit keeps its own form.
 */
export function restoreDistillFromUrl(): void {
  if (restored) return;
  const state = useDistillStore.getState();
  const presets = usePresetStore.getState().presets;
  // After the presets have given the form its first student (so the link's settings are not moved to it).
  if (!state.methods || !presets || !state.form.model) return;
  // Set first: the state change below runs the store's subscribers, this function's callers among them.
  restored = true;
  const { distill } = parseUrlConfig(window.location.search).config;
  if (!liveRun(state)) {
    const students = presets.filter((p) => p.role === 'student').map((p) => p.id);
    const applied = distillFromUrl(state, distill, state.methods, students);
    for (const problem of applied.problems) reportError(problem);
    useDistillStore.setState(applied.state);
  }
  useDistillStore.subscribe((next, before) => {
    if (
      next.form !== before.form ||
      next.methodId !== before.methodId ||
      next.paramTexts !== before.paramTexts ||
      next.labelledFraction !== before.labelledFraction
    )
      scheduleUrlWrite();
  });
  writeUrlNow();
}

/** Applies the link's form as soon as the methods and presets are there (start-up; they come in any order). */
export function restoreDistillWhenReady(): void {
  restoreDistillFromUrl();
  if (restored) return;
  const unsubscribe = [
    useDistillStore.subscribe(() => {
      restoreDistillFromUrl();
      if (restored) unsubscribe.forEach((u) => u());
    }),
    usePresetStore.subscribe(() => {
      restoreDistillFromUrl();
      if (restored) unsubscribe.forEach((u) => u());
    }),
  ];
}

/** The link to this configuration, as the address bar now holds it. */
export function shareableLink(): string {
  writeUrlNow();
  return window.location.href;
}

/** Why the link would not hold the whole form (a value the form refuses is left out of it), or null. */
export function linkCaveat(): string | null {
  const state = useDistillStore.getState();
  const method = state.methods?.find((m) => m.id === state.methodId);
  const refusedParams = method ? !checkParams(method, state.paramTexts[method.id] ?? {}).values : false;
  const refusedSettings = CONFIG_SETTINGS.some(({ key }) => settingProblem(key, state.form[key]) !== null);
  return refusedParams || refusedSettings ? 'values the form refuses are left out of the link' : null;
}
