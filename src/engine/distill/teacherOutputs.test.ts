import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkOutputs, onlyOutputs, outputsRead, outputTensors } from './teacherOutputs';

describe('the teacher outputs a method reads', () => {
  it('are the logits and every declared index, once each, ascending; a component that declares none reads all', () => {
    expect(outputsRead([[1], [3, 1]], 6)).toEqual([0, 1, 3]);
    expect(outputsRead([[0]], 6)).toEqual([0]);
    expect(outputsRead([[1], undefined], 4)).toEqual([0, 1, 2, 3]);
  });

  it('leave holes where a method reads nothing, and a batch with other outputs is refused by name', () => {
    const all = [0, 1, 2, 3].map((i) => tf.scalar(i));
    const kept = onlyOutputs(all, [0, 2]);
    expect(kept).toHaveLength(3);
    expect(kept[1]).toBeUndefined();
    expect(kept[2]).toBe(all[2]);
    expect(() => checkOutputs(kept, [0, 2])).not.toThrow();
    expect(() => checkOutputs(kept, [0, 1])).toThrow(
      'the batch came with teacher outputs 0, 2; this method reads 0, 1',
    );
    tf.dispose(all);
  });

  it('sent from another thread become tensors at their model indices', async () => {
    const tensors = outputTensors([
      { index: 0, shape: [1, 2], values: Float32Array.of(1, 2) },
      { index: 3, shape: [2], values: Float32Array.of(5, 6) },
    ]);
    expect(tensors).toHaveLength(4);
    expect(tensors[1]).toBeUndefined();
    expect(tensors[0]!.shape).toEqual([1, 2]);
    expect(Array.from(await tensors[3]!.data())).toEqual([5, 6]);
    tf.dispose(tensors.filter((t) => t));
  });
});
