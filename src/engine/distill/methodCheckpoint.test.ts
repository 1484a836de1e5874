import { describe, expect, it } from 'vitest';
import { errorOf } from '../../testing/errorOf';
import { decodeMethodCheckpoint, encodeMethodCheckpoint } from './methodCheckpoint';

const info = {
  method: 'akd',
  params: { anchorsPerClass: 1, weight: 10 },
  labelledFraction: 0.2,
  teacher: { preset: 'vgg-fast', source: 'teacher/' },
};

describe('method.json + method.bin', () => {
  it('round-trips a method’s state arrays, keys in a stable order', () => {
    const state = {
      'akd/masks': { shape: [2, 2, 2, 1], values: Float32Array.from({ length: 8 }, (_, i) => i / 8) },
      'crd/steps': { shape: [], values: Float32Array.of(42) },
    };
    const { json, bin } = encodeMethodCheckpoint(info, state);
    expect(bin.byteLength).toBe(9 * 4);
    const parsed = JSON.parse(json);
    expect(parsed).toMatchObject({ format: 'distillery-method', version: 1, ...info });
    expect(parsed.arrays).toEqual([
      { key: 'akd/masks', shape: [2, 2, 2, 1], offset: 0, length: 8 },
      { key: 'crd/steps', shape: [], offset: 8, length: 1 },
    ]);
    // Bytes at an odd offset, as a file read into a larger buffer may give them.
    const padded = new Uint8Array(bin.byteLength + 1);
    padded.set(bin, 1);
    const back = decodeMethodCheckpoint(new TextEncoder().encode(json), padded.subarray(1));
    expect(back.checkpoint).toMatchObject(info);
    expect(back.state).toEqual(state);
  });

  it('holds a method without state (kd) as an empty bin', () => {
    const { json, bin } = encodeMethodCheckpoint({ ...info, method: 'kd', teacher: null }, {});
    expect(bin.byteLength).toBe(0);
    expect(decodeMethodCheckpoint(new TextEncoder().encode(json), bin).state).toEqual({});
  });

  it('refuses a state whose values do not fill its shape, and a bin of the wrong size', () => {
    expect(
      errorOf(() => encodeMethodCheckpoint(info, { m: { shape: [3], values: new Float32Array(2) } })).message,
    ).toBe('method state "m" has 2 values for shape [3]');
    const { json } = encodeMethodCheckpoint(info, { m: { shape: [3], values: new Float32Array(3) } });
    expect(
      errorOf(() => decodeMethodCheckpoint(new TextEncoder().encode(json), new Uint8Array(8))).message,
    ).toBe('method.bin: has 8 bytes, method.json needs 12');
    expect(
      errorOf(() => decodeMethodCheckpoint(new TextEncoder().encode('{"format":"x"}'), new Uint8Array(0)))
        .message,
    ).toBe('method.json: not a Distillery method checkpoint');
  });
});
