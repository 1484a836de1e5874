/**
 * The schemes' losses against hand-computed small cases (plain float64 arithmetic here, not tfjs), and the
 * detaching they rely on: a student's mutual term sends no gradient into the other student, the student's KD
 * term in online distillation none into the teacher.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { findPreset } from '../models/presets';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../training/hyperparams';
import { createOptimizer, initialTrainerState } from '../training/trainer';
import { mutualKl, mutualScheme } from './mutual';
import { onlineTerms } from './online';

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

const softmax = (z: readonly number[], t: number) => {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
/** T^2 KL(softmax(p/T) || softmax(q/T)), mean over rows. */
const kdSoft = (p: number[][], q: number[][], t: number) =>
  (t *
    t *
    p.reduce((sum, row, i) => {
      const a = softmax(row, t);
      const b = softmax(q[i]!, t);
      return sum + a.reduce((k, ai, c) => k + ai * Math.log(ai / b[c]!), 0);
    }, 0)) /
  p.length;
const crossEntropy = (z: number[][], labels: number[]) =>
  z.reduce((sum, row, i) => sum - Math.log(softmax(row, 1)[labels[i]!]!), 0) / z.length;

const A = [
  [2, 0.5, -1],
  [0.1, 0.2, 1.5],
];
const B = [
  [0.3, 1.2, 0],
  [-0.5, 2, 0.4],
];
const C = [
  [1, 1, 1],
  [3, -2, 0.5],
];

describe('deep mutual learning', () => {
  it('each student gets T^2 KL(other || own) averaged over the others (T 1 and T 3, 2 and 3 students)', async () => {
    const labels = tf.tensor1d([0, 2], 'int32');
    for (const t of [1, 3]) {
      const [ka, kb] = mutualKl([tf.tensor2d(A), tf.tensor2d(B)], labels, t);
      expect(ka!.dataSync()[0]).toBeCloseTo(kdSoft(B, A, t), 5);
      expect(kb!.dataSync()[0]).toBeCloseTo(kdSoft(A, B, t), 5);
      tf.dispose([ka!, kb!]);
    }
    const three = mutualKl([tf.tensor2d(A), tf.tensor2d(B), tf.tensor2d(C)], labels, 3);
    expect(three[0]!.dataSync()[0]).toBeCloseTo((kdSoft(B, A, 3) + kdSoft(C, A, 3)) / 2, 5);
    expect(three[2]!.dataSync()[0]).toBeCloseTo((kdSoft(A, C, 3) + kdSoft(B, C, 3)) / 2, 5);
    // Sanity of the hand computation: a nonzero, asymmetric divergence.
    expect(kdSoft(A, B, 3)).not.toBeCloseTo(kdSoft(B, A, 3), 3);
    tf.dispose([...three, labels]);
  });

  it("a student's loss sends no gradient into the other student (the other's softmax is detached)", () => {
    const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, role: 'student', model: 'cnn-small' };
    const members = ['s1', 's2'].map((name, i) => ({
      name,
      model: findPreset('cnn-small').build(11 + i),
      config,
      optimizer: createOptimizer(config),
      extra: [],
      state: initialTrainerState(),
    }));
    const instance = mutualScheme.create(members, { temperature: 3, weight: 1 });
    const images = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const own = members[0]!.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const other = members[1]!.model.trainableWeights.map((w) => w.read() as tf.Variable);
    // Only the mutual term, so that a leak could not hide behind the CE's own gradient.
    const { value, grads } = tf.variableGrads(() => {
      const out = instance.loss({ images, labels, indices: [0, 1, 2, 3], training: true });
      return tf.sub(out.s1!.terms.kl!, tf.scalar(0)) as tf.Scalar;
    }, [...own, ...other]);
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    const norm = (vars: tf.Variable[]) =>
      vars.reduce((n, v) => n + (grads[v.name] ? tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]! : 0), 0);
    expect(norm(own)).toBeGreaterThan(0);
    expect(norm(other)).toBe(0);
    tf.dispose([value, images, labels, grads]);
    instance.dispose();
    members.forEach((m) => {
      m.model.dispose();
      m.optimizer.dispose();
    });
  });
});

describe('online distillation', () => {
  it('student: 0.5 CE + 0.5 T^2 KL(teacher || student) + 0.1 x mean CE of the auxiliary heads', () => {
    const labels = [0, 2];
    // One 1x2 stage map of 2 channels per image; the head pools it to the channel means.
    const stage = [
      [[[1, -1]], [[3, 1]]],
      [[[0, 2]], [[-2, 0]]],
    ].map((img) => img.map((row) => row.map((px) => px)));
    const pooled = [
      [2, 0],
      [-1, 1],
    ];
    const kernel = [
      [0.5, -0.2, 0.1],
      [0.3, 0.4, -0.6],
    ];
    const bias = [0.1, 0, -0.1];
    const head = pooled.map((p) => bias.map((b, c) => b + p[0]! * kernel[0]![c]! + p[1]! * kernel[1]![c]!));
    const expected = {
      ce: crossEntropy(B, labels),
      kd: kdSoft(A, B, 3),
      aux: crossEntropy(head, labels),
    };
    const heads = [{ kernel: tf.variable(tf.tensor2d(kernel)), bias: tf.variable(tf.tensor1d(bias)) }];
    const teacher = tf.tensor2d(A);
    const studentOut = [tf.tensor2d(B), tf.zeros([2, 4]), tf.tensor4d(stage.flat(3), [2, 2, 1, 2])];
    const labelTensor = tf.tensor1d(labels, 'int32');
    const params = { temperature: 3, ce: 0.5, kd: 0.5, aux: 0.1 };
    const terms = onlineTerms(teacher, studentOut, heads, labelTensor, params);
    expect(terms.ce.dataSync()[0]).toBeCloseTo(expected.ce, 5);
    expect(terms.kd.dataSync()[0]).toBeCloseTo(expected.kd, 5);
    expect(terms.aux.dataSync()[0]).toBeCloseTo(expected.aux, 5);
    expect(terms.weighted.dataSync()[0]).toBeCloseTo(
      0.5 * expected.ce + 0.5 * expected.kd + 0.1 * expected.aux,
      5,
    );
    // The teacher's logits get no gradient from the student's terms (tfjs finds no path from them), the
    // student's logits do.
    const weightedOf = (t: tf.Tensor, s: tf.Tensor) =>
      onlineTerms(t as tf.Tensor2D, [s, ...studentOut.slice(1)], heads, labelTensor, params).weighted;
    expect(() => tf.grad((t: tf.Tensor) => weightedOf(t, studentOut[0]!))(teacher)).toThrow(
      'Cannot compute gradient',
    );
    const gradStudent = tf.grad((s: tf.Tensor) => weightedOf(teacher, s))(studentOut[0]!);
    expect(tf.sum(tf.abs(gradStudent)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([teacher, ...studentOut, labelTensor, gradStudent, terms, heads[0]!.kernel, heads[0]!.bias]);
  });
});
