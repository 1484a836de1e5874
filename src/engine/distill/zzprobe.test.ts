import * as tf from '@tensorflow/tfjs';
import { it, expect } from 'vitest';
import { initBackend } from '/work/main/src/engine/backend/initBackend';
it('probe', async () => {
  const r = await initBackend('wasm');
  expect(r.backend).toBe('wasm');
  const m = tf.variable(tf.randomUniform([2, 14, 14, 1]));
  const g = tf.variableGrads(() => tf.sum(tf.square(tf.image.resizeBilinear(m as tf.Tensor4D, [32, 32], false, true))), [m]);
  console.log('grad', g.grads[m.name]!.shape, (await g.grads[m.name]!.data()).slice(0, 3));
  const up = tf.image.resizeBilinear(tf.ones([1, 14, 14, 1]) as tf.Tensor4D, [32, 32], false, true);
  console.log('ones up min/max', tf.min(up).dataSync(), tf.max(up).dataSync());
  const mem = tf.variable(tf.zeros([5, 3]), false);
  mem.assign(tf.tensorScatterUpdate(mem, tf.tensor2d([[1], [3]], [2, 1], 'int32'), tf.ones([2, 3])));
  console.log(mem.arraySync());
  const w = tf.gather(mem, tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'));
  console.log(w.shape, tf.matMul(w, tf.ones([2, 3, 1])).shape);
});
