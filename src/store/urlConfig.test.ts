import { describe, expect, it } from 'vitest';
import type { DistillMethodInfo } from '../engine/config/methods';
import { DISTILL_METHODS } from '../engine/distill/registry';
import { MODEL_PRESETS } from '../engine/models/presets';
import { type DistillState, initialDistillState, withMethods } from './distillState';
import { defaultForm, editedForm } from './trainForm';
import { DEFAULT_CONFIG, distillFromUrl, distillToUrl, formatUrlConfig, parseUrlConfig } from './urlConfig';

/** The methods as the Worker sends them (plain data from the real registry). */
const METHODS: DistillMethodInfo[] = DISTILL_METHODS.map((m) => ({
  id: m.id,
  label: m.label,
  summary: m.summary,
  defaultsFrom: m.defaultsFrom,
  params: m.params,
  learnsAnchorMasks: m.learnsAnchorMasks ?? false,
  needsTeacher: m.needsTeacher,
  setupNote: m.setupNote ?? null,
}));
const STUDENTS = MODEL_PRESETS.filter((p) => p.role === 'student').map((p) => p.id);

/** The panel's state on a first visit once the methods and presets have arrived. */
const firstVisit = (): DistillState => {
  const state = withMethods(initialDistillState(), METHODS);
  return { ...state, form: editedForm(state.form, { model: STUDENTS[0]! }) };
};

/** What opening `search` on a first visit gives the form, and the problems it names. */
function open(search: string): { state: DistillState; problems: string[] } {
  const parsed = parseUrlConfig(search);
  const applied = distillFromUrl(firstVisit(), parsed.config.distill, METHODS, STUDENTS);
  return { state: applied.state, problems: [...parsed.problems, ...applied.problems] };
}

describe('URL config: backend and dataset', () => {
  it('defaults to automatic backend and the embedded set', () => {
    expect(parseUrlConfig('')).toEqual({ config: DEFAULT_CONFIG, problems: [] });
    expect(parseUrlConfig('?backend=auto').config.backend).toBeUndefined();
  });

  it('reads ?backend= and ?set=', () => {
    const { config, problems } = parseUrlConfig('?backend=wasm&set=full');
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ backend: 'wasm', set: 'full' });
  });

  it('names bad values instead of ignoring them silently', () => {
    const { config, problems } = parseUrlConfig('?backend=cuda&set=imagenet');
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(problems).toEqual([
      '?backend=cuda is not a backend; use one of auto, webgpu, webgl, wasm, cpu',
      '?set=imagenet is not a dataset; use one of embedded, full',
    ]);
  });

  it('keeps the page’s own keys (lecture mode) and leaves the defaults out', () => {
    const query = formatUrlConfig({ backend: 'webgpu', set: 'full' }, '?present=1&backend=cpu');
    expect(query).toBe('?present=1&backend=webgpu&set=full');
    expect(parseUrlConfig(query).problems).toEqual([]);
    expect(formatUrlConfig(DEFAULT_CONFIG, '?backend=cpu')).toBe('');
  });
});

describe('URL config: the distillation form', () => {
  it('round-trips a non-default method, its parameters, student, settings, labels and seed exactly', () => {
    let state = firstVisit();
    state = { ...state, form: editedForm(state.form, { model: 'resnet8' }) };
    state = {
      ...state,
      methodId: 'akd+kd',
      paramTexts: { 'akd+kd': { 'kd.temperature': '2', 'akd.weight': '5' } },
      labelledFraction: 0.2,
      form: { ...state.form, seed: '7', learningRate: '0.003', optimizer: 'adam', augment: false },
    };
    const query = formatUrlConfig({ backend: 'wasm', set: 'embedded', distill: distillToUrl(state) });
    expect(query).toContain('method=akd%2Bkd');
    expect(query).toContain('p.kd.temperature=2');
    expect(query).toContain('student=resnet8');
    expect(query).toContain('seed=7');
    const opened = open(query);
    expect(opened.problems).toEqual([]);
    expect(opened.state.methodId).toBe('akd+kd');
    expect(opened.state.labelledFraction).toBe(0.2);
    expect(opened.state.form).toEqual(state.form);
    // Every parameter is in the link (a later change of a default does not change what the link means).
    const method = METHODS.find((m) => m.id === 'akd+kd')!;
    expect(Object.keys(opened.state.paramTexts['akd+kd']!).sort()).toEqual(
      method.params.map((p) => p.name).sort(),
    );
    expect(opened.state.paramTexts['akd+kd']!['kd.temperature']).toBe('2');
    expect(opened.state.paramTexts['akd+kd']!['akd.weight']).toBe('5');
    // Written again, the same link.
    expect(formatUrlConfig({ backend: 'wasm', set: 'embedded', distill: distillToUrl(opened.state) })).toBe(
      query,
    );
  });

  it('gives a link that names only a student that preset’s own defaults', () => {
    const { state, problems } = open('?student=resnet8');
    expect(problems).toEqual([]);
    expect(state.form).toEqual(defaultForm('resnet8'));
  });

  it('writes a whole form over the one before (unknown keys go, the page’s stay) and leaves refused values out', () => {
    const state = firstVisit();
    const refused = { ...state, form: { ...state.form, learningRate: 'fast' } };
    const query = formatUrlConfig(
      { backend: undefined, set: 'embedded', distill: distillToUrl(refused) },
      '?lr=0.5&p.alpha=0.3&method=kd&colour=red&present=1',
    );
    const params = new URLSearchParams(query);
    expect(params.has('colour')).toBe(false);
    expect(params.get('present')).toBe('1');
    expect(params.get('lr')).toBeNull();
    expect(params.get('p.alpha')).toBe('0.9');
    expect(params.get('epochs')).toBe(state.form.epochs);
  });

  it('ignores unknown and bad keys, naming each, and applies the rest', () => {
    const { state, problems } = open(
      '?lr=abc&seed=-1&epochs=5&foo=1&labelled=0.5&augment=maybe&method=kd&p.tau=3&p.temperature=0&p.alpha=0.5&student=vgg-fast',
    );
    expect(problems).toEqual([
      '?labelled=0.5 is ignored: the labelled fraction must be one of 1, 0.2, 0',
      '?lr=abc is ignored: learning rate must be a number between 0.000001 and 10',
      '?seed=-1 is ignored: seed must be between 0 and 2,147,483,647',
      '?augment=maybe is ignored: augment must be true or false',
      expect.stringMatching(
        /^\?foo= is ignored: it is not a setting of the lab \(settings: backend, set, method/,
      ),
      '?p.tau=3 is ignored: unknown parameter "tau": valid are temperature, alpha',
      '?p.temperature=0 is ignored: temperature must be between 0.5 and 20; got 0',
      expect.stringMatching(/^\?student=vgg-fast is ignored: not a student preset; use one of cnn-small/),
    ]);
    const first = firstVisit();
    expect(state.methodId).toBe('kd');
    expect(state.paramTexts.kd).toEqual({ alpha: '0.5' });
    expect(state.labelledFraction).toBe(first.labelledFraction);
    expect(state.form).toEqual({ ...first.form, epochs: '5' });
  });

  it('names an unknown method and parameters without one; never throws on a mangled query', () => {
    expect(open('?method=distill-everything').problems).toEqual([
      expect.stringMatching(/^\?method=distill-everything is ignored: no such method; methods: ce, kd, /),
    ]);
    expect(open('?p.temperature=2').problems).toEqual([
      'the method parameters in the link are ignored: it names no method (?method=)',
    ]);
    for (const search of ['?%E0%A4%A=1', '?=&&=x', '?lr', '?method=&student=', '?p.=1&method=kd'])
      expect(() => open(search), search).not.toThrow();
    expect(open('?method=&student=').state).toEqual(firstVisit());
  });
});
