import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import reference from './reference/mask-upsample.json';
import { interpolationMatrix, resizeBilinear, upsampleMasks } from './resize';

/** Float32 against float64 PyTorch values (reference/README.md: about 1e-5 relative). */
const TOLERANCE = 1e-5;

interface UpsampleCase {
  masks: number[][][];
  upstream: number[][][];
  size: number;
  up: number[][][];
  grad: number[][][];
}
const cases = reference.cases as UpsampleCase[];

/** Adds the trailing channel axis: [N][H][W] -> [N, H, W, 1]. */
const nhw1 = (values: number[][][]) => tf.tensor4d(values.map((m) => m.map((r) => r.map((v) => [v]))));
const flat = (values: number[][][]) => values.flat(2);

/** max |got - want| / max |want|: the error relative to the largest expected value. */
function relativeError(got: ArrayLike<number>, want: readonly number[]): number {
  expect(got.length).toBe(want.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}

/** Forward values and d/d(masks) of sum(resize(masks) * upstream) of one resize function. */
function forwardAndGradient(c: UpsampleCase, resize: (m: tf.Tensor4D) => tf.Tensor4D) {
  return tf.tidy(() => {
    const masks = nhw1(c.masks);
    const upstream = nhw1(c.upstream);
    const up = resize(masks);
    const grad = tf.grad((m: tf.Tensor) => tf.sum(tf.mul(resize(m as tf.Tensor4D), upstream)))(masks);
    return { up: up.dataSync(), grad: grad.dataSync(), shape: up.shape };
  });
}

describe.each(['cpu', 'wasm'] as const)('upsampleMasks on %s', (backend) => {
  beforeAll(async () => {
    if (backend === 'cpu') expect(await tf.setBackend('cpu')).toBe(true);
    else expect((await initBackend('wasm')).backend).toBe('wasm');
    expect(tf.getBackend()).toBe(backend);
  });

  it('has the reference cases 14->32, 7->32 and 14->28', () => {
    expect(cases.map((c) => `${c.masks[0]!.length}->${c.size}`)).toEqual(
      expect.arrayContaining(['14->32', '7->32', '14->28']),
    );
  });

  it.each(cases.map((c, i) => [i, c] as const))(
    'case %i: forward and gradient equal PyTorch F.interpolate(bilinear, align_corners=False)',
    (_, c) => {
      const before = tf.memory().numTensors;
      const { up, grad, shape } = forwardAndGradient(c, (m) => upsampleMasks(m, c.size));
      expect(shape).toEqual([c.masks.length, c.size, c.size, 1]);
      expect(relativeError(up, flat(c.up))).toBeLessThan(TOLERANCE);
      expect(relativeError(grad, flat(c.grad))).toBeLessThan(TOLERANCE);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('tf.image.resizeBilinear (the old upsampling) has the right forward values and a wrong gradient', () => {
    // This is the tfjs 4.22 bug the lab works around; if this test fails, tfjs has fixed ResizeBilinearGrad.
    const c = cases[0]!;
    const { up, grad } = forwardAndGradient(c, (m) =>
      tf.image.resizeBilinear(m, [c.size, c.size], false, true),
    );
    expect(relativeError(up, flat(c.up))).toBeLessThan(TOLERANCE);
    expect(relativeError(grad, flat(c.grad))).toBeGreaterThan(0.1);
  });

  it('the gradient equals finite differences of the forward pass', () => {
    // The resize is linear, so a central difference is exact up to float32 rounding even with a large step.
    const masks = tf.randomUniform([2, 5, 5, 1], 0, 2, 'float32', 7) as tf.Tensor4D;
    const upstream = tf.randomNormal([2, 12, 12, 1], 0, 1, 'float32', 8);
    const objective = (m: tf.Tensor) => tf.sum(tf.mul(upsampleMasks(m as tf.Tensor4D, 12), upstream));
    const analytic = tf.tidy(() => tf.grad(objective)(masks).dataSync());
    const values = masks.dataSync() as Float32Array;
    const step = 0.5;
    const numeric = Array.from(values, (_, k) =>
      tf.tidy(() => {
        const plus = values.slice();
        const minus = values.slice();
        plus[k]! += step;
        minus[k]! -= step;
        const f = (v: Float32Array) => objective(tf.tensor4d(v, masks.shape)).dataSync()[0]!;
        return (f(plus) - f(minus)) / (2 * step);
      }),
    );
    expect(relativeError(analytic, numeric)).toBeLessThan(1e-4);
    tf.dispose([masks, upstream]);
  });

  it('resizes every channel alike, up and down, as a per-pixel bilinear formula does', () => {
    const [n, h, w, c] = [2, 6, 4, 3];
    const x = tf.randomUniform([n, h, w, c], -1, 1, 'float32', 9) as tf.Tensor4D;
    const values = x.dataSync();
    for (const [outH, outW] of [
      [9, 10],
      [3, 2],
    ] as const) {
      const got = tf.tidy(() => resizeBilinear(x, [outH, outW]).dataSync());
      // ATen's upsample_bilinear2d, written per output pixel in float64.
      const source = (dst: number, inSize: number, outSize: number) => {
        const s = Math.max(((dst + 0.5) * inSize) / outSize - 0.5, 0);
        const i0 = Math.min(Math.floor(s), inSize - 1);
        return { i0, i1: Math.min(i0 + 1, inSize - 1), f: s - i0 };
      };
      const want: number[] = [];
      for (let b = 0; b < n; b++)
        for (let y = 0; y < outH; y++)
          for (let z = 0; z < outW; z++)
            for (let ch = 0; ch < c; ch++) {
              const sy = source(y, h, outH);
              const sz = source(z, w, outW);
              const at = (yy: number, zz: number) => values[((b * h + yy) * w + zz) * c + ch]!;
              want.push(
                (1 - sy.f) * ((1 - sz.f) * at(sy.i0, sz.i0) + sz.f * at(sy.i0, sz.i1)) +
                  sy.f * ((1 - sz.f) * at(sy.i1, sz.i0) + sz.f * at(sy.i1, sz.i1)),
              );
            }
      expect(relativeError(got, want)).toBeLessThan(1e-5);
    }
    x.dispose();
  });
});

describe('interpolationMatrix', () => {
  it('has rows that sum to 1 and refuses sizes below 1', () => {
    const m = interpolationMatrix(14, 32);
    for (let r = 0; r < 32; r++) {
      const row = m.subarray(r * 14, r * 14 + 14);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    expect(() => interpolationMatrix(0, 4)).toThrow('resize sizes must be whole numbers >= 1; got 0 -> 4');
  });

  it('refuses masks that are not [N, H, W, 1]', () => {
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    expect(() => upsampleMasks(x, 8)).toThrow(
      'upsampleMasks expects masks of shape [N, H, W, 1]; got [1, 4, 4, 3]',
    );
    x.dispose();
  });
});
