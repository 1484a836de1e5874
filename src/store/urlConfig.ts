/**
 * The lab's configuration in the URL query, so a link reproduces the setup (as tensorflow/playground's state.ts
 * does): backend and dataset, and the distillation form whole: method, its parameters (`p.<name>`), student
 * preset, every training setting (keys from the settings table, src/engine/config/training.ts), labelled
 * fraction. Pure, so it is unit-tested; an unknown or bad key is named in a problem and ignored, never thrown.
 * What needs the Worker's lists (methods, presets) is checked when they are there (distillFromUrl).
 */
import { BACKEND_NAMES, type BackendName, isBackendName } from '../engine/config/backends';
import { isPreparedSetId, PREPARED_SET_IDS, type PreparedSetId } from '../engine/config/datasets';
import { checkParam, LABELLED_FRACTIONS, unknownParamText } from '../engine/config/methods';
import { CONFIG_SETTINGS, type ConfigSettingKey } from '../engine/config/training';
import type { DistillMethodInfo } from '../worker/protocol';
import { checkParams } from './distillForm';
import type { DistillState } from './distillState';
import { editedForm, settingProblem, type TrainForm } from './trainForm';

/** The distillation form as a URL gives it: each entry checked where no list from the Worker is needed. */
export interface DistillUrl {
  readonly method?: string;
  /** Parameter texts by parameter name (the URL's `p.<name>`), for `method`. */
  readonly params: Readonly<Record<string, string>>;
  readonly labelledFraction?: number;
  /** The student preset (checked against the presets once they are known). */
  readonly model?: string;
  readonly settings: Partial<Omit<TrainForm, 'model'>>;
}

export interface UrlConfig {
  /** undefined = choose automatically. */
  readonly backend: BackendName | undefined;
  readonly set: PreparedSetId;
  readonly distill: DistillUrl;
}

export const DEFAULT_CONFIG: UrlConfig = {
  backend: undefined,
  set: 'embedded',
  distill: { params: {}, settings: {} },
};

/** Keys other parts of the page own (lecture mode's `present`): not settings, never reported. */
export const PAGE_KEYS: readonly string[] = ['present'];

const PARAM_PREFIX = 'p.';
const LAB_KEYS = ['backend', 'set', 'method', 'student', 'labelled', ...CONFIG_SETTINGS.map((s) => s.flag)];

/** A switch's URL value. */
const SWITCH_TEXT = { true: true, false: false } as const;

export function parseUrlConfig(search: string): { config: UrlConfig; problems: string[] } {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  let backend = DEFAULT_CONFIG.backend;
  let set = DEFAULT_CONFIG.set;
  const backendParam = params.get('backend');
  if (backendParam !== null && backendParam !== 'auto') {
    if (isBackendName(backendParam)) backend = backendParam;
    else
      problems.push(
        `?backend=${backendParam} is not a backend; use one of auto, ${BACKEND_NAMES.join(', ')}`,
      );
  }
  const setParam = params.get('set');
  if (setParam !== null) {
    if (isPreparedSetId(setParam)) set = setParam;
    else problems.push(`?set=${setParam} is not a dataset; use one of ${PREPARED_SET_IDS.join(', ')}`);
  }
  const method = params.get('method') ?? undefined;
  const model = params.get('student') ?? undefined;
  let labelledFraction: number | undefined;
  const labelled = params.get('labelled');
  if (labelled !== null) {
    const fraction = labelled.trim() === '' ? Number.NaN : Number(labelled);
    if ((LABELLED_FRACTIONS as readonly number[]).includes(fraction)) labelledFraction = fraction;
    else
      problems.push(
        `?labelled=${labelled} is ignored: the labelled fraction must be one of ${LABELLED_FRACTIONS.join(', ')}`,
      );
  }
  const settings: Record<string, string | boolean> = {};
  for (const setting of CONFIG_SETTINGS) {
    const text = params.get(setting.flag);
    if (text === null) continue;
    const field = setting.kind === 'switch' ? (SWITCH_TEXT[text as keyof typeof SWITCH_TEXT] ?? text) : text;
    const problem = settingProblem(setting.key, field);
    if (problem === null) settings[setting.key] = field;
    else problems.push(`?${setting.flag}=${text} is ignored: ${problem}`);
  }
  const methodParams: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key.startsWith(PARAM_PREFIX)) methodParams[key.slice(PARAM_PREFIX.length)] = value;
    else if (!LAB_KEYS.includes(key) && !PAGE_KEYS.includes(key))
      problems.push(
        `?${key}= is ignored: it is not a setting of the lab (settings: ${LAB_KEYS.join(', ')}, p.<parameter>)`,
      );
  }
  if (Object.keys(methodParams).length && method === undefined)
    problems.push('the method parameters in the link are ignored: it names no method (?method=)');
  return {
    config: {
      backend,
      set,
      distill: {
        ...(method !== undefined ? { method } : {}),
        params: method !== undefined ? methodParams : {},
        ...(labelledFraction !== undefined ? { labelledFraction } : {}),
        ...(model !== undefined ? { model } : {}),
        settings: settings as DistillUrl['settings'],
      },
    },
    problems,
  };
}

/**
 * The distillation form with what a URL gives applied, now that the methods and the student presets are known:
 * an unknown method, parameter or preset, or a value out of its parameter's range, is a problem and left as it
 * was. The preset is applied first (its own defaults), then the settings, as typed in the link.
 */
export function distillFromUrl(
  state: DistillState,
  url: DistillUrl,
  methods: readonly DistillMethodInfo[],
  studentPresets: readonly string[],
): { state: DistillState; problems: string[] } {
  const problems: string[] = [];
  let next = state;
  if (url.method !== undefined) {
    const method = methods.find((m) => m.id === url.method);
    if (!method)
      problems.push(
        `?method=${url.method} is ignored: no such method; methods: ${methods.map((m) => m.id).join(', ')}`,
      );
    else {
      const texts: Record<string, string> = {};
      for (const [name, text] of Object.entries(url.params)) {
        const param = method.params.find((p) => p.name === name);
        const checked = param ? checkParam(param, text) : { error: unknownParamText(method, name) };
        if ('error' in checked) problems.push(`?${PARAM_PREFIX}${name}=${text} is ignored: ${checked.error}`);
        else texts[name] = text;
      }
      next = { ...next, methodId: method.id, paramTexts: { ...next.paramTexts, [method.id]: texts } };
    }
  }
  if (url.labelledFraction !== undefined) next = { ...next, labelledFraction: url.labelledFraction };
  let form = next.form;
  if (url.model !== undefined) {
    if (studentPresets.includes(url.model)) form = editedForm(form, { model: url.model });
    else
      problems.push(
        `?student=${url.model} is ignored: not a student preset; use one of ${studentPresets.join(', ')}`,
      );
  }
  form = { ...form, ...url.settings };
  return { state: { ...next, form }, problems };
}

/**
 * The URL's view of the distillation form: every value it holds now (a link keeps working when defaults
 * change); a field whose text is refused is left out, so a link never carries a value the form refuses.
 */
export function distillToUrl(state: DistillState): DistillUrl {
  const method = state.methods?.find((m) => m.id === state.methodId);
  const texts = state.paramTexts[state.methodId] ?? {};
  const params: Record<string, string> = {};
  if (method) {
    const { errors } = checkParams(method, texts);
    for (const param of method.params)
      if (!errors[param.name]) params[param.name] = (texts[param.name] ?? String(param.default)).trim();
  }
  const settings: Record<string, string | boolean> = {};
  for (const { key } of CONFIG_SETTINGS) {
    const field = state.form[key as ConfigSettingKey];
    if (settingProblem(key, field) === null) settings[key] = typeof field === 'string' ? field.trim() : field;
  }
  return {
    method: state.methodId,
    params,
    labelledFraction: state.labelledFraction,
    ...(state.form.model ? { model: state.form.model } : {}),
    settings: settings as DistillUrl['settings'],
  };
}

/**
 * The query string for a config. The backend and the dataset are left out at their defaults; the distillation
 * form (when given) is written whole, replacing the one before and any key the lab does not know (the page's
 * own keys, PAGE_KEYS, stay). Without it, other keys are left as they were.
 */
export function formatUrlConfig(
  config: Pick<UrlConfig, 'backend' | 'set'> & { readonly distill?: DistillUrl },
  search = '',
): string {
  const params = new URLSearchParams(search);
  if (config.backend) params.set('backend', config.backend);
  else params.delete('backend');
  if (config.set !== DEFAULT_CONFIG.set) params.set('set', config.set);
  else params.delete('set');
  const { distill } = config;
  if (distill) {
    // The form replaces the one before; keys the lab does not know (named once when the link was opened) go.
    for (const key of [...params.keys()])
      if (key !== 'backend' && key !== 'set' && !PAGE_KEYS.includes(key)) params.delete(key);
    if (distill.method !== undefined) params.set('method', distill.method);
    for (const [name, text] of Object.entries(distill.params)) params.set(`${PARAM_PREFIX}${name}`, text);
    if (distill.model !== undefined) params.set('student', distill.model);
    for (const setting of CONFIG_SETTINGS) {
      const field = distill.settings[setting.key];
      if (field !== undefined) params.set(setting.flag, String(field));
    }
    if (distill.labelledFraction !== undefined) params.set('labelled', String(distill.labelledFraction));
  }
  const query = params.toString();
  return query ? `?${query}` : '';
}
