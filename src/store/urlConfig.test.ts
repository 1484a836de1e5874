import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, formatUrlConfig, parseUrlConfig } from './urlConfig';

describe('URL config', () => {
  it('defaults to automatic backend and the embedded set', () => {
    expect(parseUrlConfig('')).toEqual({ config: DEFAULT_CONFIG, problems: [] });
    expect(parseUrlConfig('?backend=auto').config.backend).toBeUndefined();
  });

  it('reads ?backend= and ?set=', () => {
    expect(parseUrlConfig('?backend=wasm&set=full')).toEqual({
      config: { backend: 'wasm', set: 'full' },
      problems: [],
    });
  });

  it('names bad values instead of ignoring them silently', () => {
    const { config, problems } = parseUrlConfig('?backend=cuda&set=imagenet');
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(problems).toEqual([
      '?backend=cuda is not a backend; use one of auto, webgpu, webgl, wasm, cpu',
      '?set=imagenet is not a dataset; use one of embedded, full',
    ]);
  });

  it('round-trips and keeps unrelated parameters', () => {
    const query = formatUrlConfig({ backend: 'webgpu', set: 'full' }, '?debug=1&backend=cpu');
    expect(query).toBe('?debug=1&backend=webgpu&set=full');
    expect(parseUrlConfig(query).config).toEqual({ backend: 'webgpu', set: 'full' });
    expect(formatUrlConfig(DEFAULT_CONFIG, '?backend=cpu')).toBe('');
  });
});
