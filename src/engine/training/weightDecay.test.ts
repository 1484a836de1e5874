import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { values } from '../backend/kernelTestData';
import { weightDecayTerm } from './weightDecay';

/** The term as tfjs computes it with its own gradients: 0.5 wd sum over kernels of sum(square(k)). */
const plainTerm = (kernels: tf.Tensor[], wd: number) =>
  tf.mul(0.5 * wd, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar;

describe('weightDecayTerm', () => {
  it.each(['cpu', 'wasm'])(
    'equals the plain sum of squares, value and gradients, bit for bit (%s)',
    async (backend) => {
      await tf.setBackend(backend);
      const shapes = [[3, 3, 4, 8], [16, 10], [7]];
      const kernels = shapes.map((shape, i) =>
        tf.tensor(
          values(
            shape.reduce((a, b) => a * b),
            31 + i,
          ),
          shape,
        ),
      );
      // A loss that weighs the term, so that its upstream gradient is not 1.
      const [ours, plain] = [weightDecayTerm, plainTerm].map((term) =>
        tf.valueAndGrads((...ks: tf.Tensor[]) => tf.mul(term(ks, 5e-4), 3.7) as tf.Scalar)(kernels),
      );
      expect(await ours!.value.data()).toEqual(await plain!.value.data());
      for (let i = 0; i < kernels.length; i++) {
        const grad = await ours!.grads[i]!.data();
        expect(grad).toEqual(await plain!.grads[i]!.data());
        // wd * w, scaled by the 3.7 above: the gradient of PyTorch's weight_decay.
        const w = await kernels[i]!.data();
        grad.forEach((g, j) => expect(g).toBeCloseTo(3.7 * 5e-4 * w[j]!, 9));
      }
      tf.dispose([...kernels, ours!.value, plain!.value, ...ours!.grads, ...plain!.grads]);
    },
  );

  it('is 0 for no kernels', async () => {
    expect(await weightDecayTerm([], 5e-4).data()).toEqual(new Float32Array([0]));
  });
});
