import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { akdLoss, anchorUncertainty, kdLoss, pktLoss } from './losses';
import reference from './reference/losses-and-metrics.json';

/** Float32 against float64 PyTorch values (reference/README.md). */
const TOLERANCE = 1e-4;

interface LossCase {
  shape: { batch: number; classes: number; studentDim: number; teacherDim: number; anchors: number };
  inputs: {
    studentLogits: number[][];
    teacherLogits: number[][];
    labels: number[];
    studentFeatures: number[][];
    teacherFeatures: number[][];
    studentAnchorFeatures: number[][];
    teacherAnchorFeatures: number[][];
  };
  params: { temperature: number; alpha: number; lambda1: number; lambda2: number };
  expected: {
    kdSoft: number;
    kdHard: number;
    kdTotal: number;
    pkt: number;
    akdL1: number;
    akdL2: number;
    akdL3: number;
    akdTotal: number;
    anchorUncertainty: number[];
  };
}

const cases = reference.losses as LossCase[];

type Quantity = keyof LossCase['expected'];
type Backend = 'cpu' | 'wasm';

/** The largest relative error seen per backend and quantity, printed at the end for the record. */
const worst: Record<Backend, Partial<Record<Quantity, number>>> = { cpu: {}, wasm: {} };

function expectClose(backend: Backend, quantity: Quantity, got: number, want: number): void {
  const relative = Math.abs(got - want) / Math.abs(want);
  worst[backend][quantity] = Math.max(
    worst[backend][quantity] ?? 0,
    Number.isNaN(relative) ? Infinity : relative,
  );
  expect(relative, `${quantity} on ${backend}: got ${got}, want ${want}`).toBeLessThan(TOLERANCE);
}

const scalar = (t: tf.Tensor) => t.dataSync()[0]!;

/** Runs `fn`, disposes what it returns, and checks that no tensor was left behind. */
function expectNoLeak(fn: () => tf.TensorContainer): void {
  const before = tf.memory().numTensors;
  tf.dispose(fn());
  expect(tf.memory().numTensors).toBe(before);
}

function expectUsefulGradient(name: string, gradient: tf.Tensor): void {
  const values = gradient.dataSync();
  let maxAbs = 0;
  for (const v of values) {
    expect(Number.isFinite(v), `${name} gradient has a non-finite entry`).toBe(true);
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  expect(maxAbs, `${name} gradient is all zero`).toBeGreaterThan(0);
}

function tensorsOf(c: LossCase) {
  return {
    studentLogits: tf.tensor2d(c.inputs.studentLogits),
    teacherLogits: tf.tensor2d(c.inputs.teacherLogits),
    labels: tf.tensor1d(c.inputs.labels, 'int32'),
    studentFeatures: tf.tensor2d(c.inputs.studentFeatures),
    teacherFeatures: tf.tensor2d(c.inputs.teacherFeatures),
    studentAnchorFeatures: tf.tensor2d(c.inputs.studentAnchorFeatures),
    teacherAnchorFeatures: tf.tensor2d(c.inputs.teacherAnchorFeatures),
  };
}

describe.each<Backend>(['cpu', 'wasm'])('distillation losses on %s', (backend) => {
  let inputs: ReturnType<typeof tensorsOf>[];

  beforeAll(async () => {
    if (backend === 'cpu') {
      // setBackend resolves to false, rather than throwing, when a backend cannot start.
      expect(await tf.setBackend('cpu')).toBe(true);
    } else {
      const report = await initBackend('wasm');
      expect(report.backend).toBe('wasm');
    }
    expect(tf.getBackend()).toBe(backend);
    inputs = cases.map(tensorsOf);
  });

  afterAll(() => {
    tf.dispose(inputs);
    console.log(`max relative error on ${backend}:`, worst[backend]);
  });

  it('has reference cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  describe.each(cases.map((c, i) => [i, c] as const))('reference case %i', (index, c) => {
    const x = () => inputs[index]!;

    it('kdLoss matches, with labels as number[] and as an int32 tensor', () => {
      for (const labels of [c.inputs.labels, x().labels]) {
        const { soft, hard, total } = kdLoss(x().studentLogits, x().teacherLogits, labels, c.params);
        expectClose(backend, 'kdSoft', scalar(soft), c.expected.kdSoft);
        expectClose(backend, 'kdHard', scalar(hard), c.expected.kdHard);
        expectClose(backend, 'kdTotal', scalar(total), c.expected.kdTotal);
        expect(soft.shape).toEqual([]);
        tf.dispose([soft, hard, total]);
      }
    });

    it('pktLoss matches', () => {
      const pkt = pktLoss(x().studentFeatures, x().teacherFeatures);
      expect(pkt.shape).toEqual([]);
      expectClose(backend, 'pkt', scalar(pkt), c.expected.pkt);
      pkt.dispose();
    });

    it('akdLoss matches', () => {
      const terms = akdLoss(
        x().studentFeatures,
        x().teacherFeatures,
        x().studentAnchorFeatures,
        x().teacherAnchorFeatures,
        c.params,
      );
      expectClose(backend, 'akdL1', scalar(terms.l1), c.expected.akdL1);
      expectClose(backend, 'akdL2', scalar(terms.l2), c.expected.akdL2);
      expectClose(backend, 'akdL3', scalar(terms.l3), c.expected.akdL3);
      expectClose(backend, 'akdTotal', scalar(terms.total), c.expected.akdTotal);
      tf.dispose(terms);
    });

    it('anchorUncertainty matches per element', () => {
      const u = anchorUncertainty(x().studentFeatures, x().studentAnchorFeatures);
      expect(u.shape).toEqual([c.shape.batch]);
      const values = u.dataSync();
      c.expected.anchorUncertainty.forEach((want, i) =>
        expectClose(backend, 'anchorUncertainty', values[i]!, want),
      );
      u.dispose();
    });

    it('leaves no tensor behind', () => {
      expectNoLeak(() => kdLoss(x().studentLogits, x().teacherLogits, c.inputs.labels, c.params));
      expectNoLeak(() => kdLoss(x().studentLogits, x().teacherLogits, x().labels, c.params));
      expectNoLeak(() => pktLoss(x().studentFeatures, x().teacherFeatures));
      expectNoLeak(() =>
        akdLoss(
          x().studentFeatures,
          x().teacherFeatures,
          x().studentAnchorFeatures,
          x().teacherAnchorFeatures,
          c.params,
        ),
      );
      expectNoLeak(() => anchorUncertainty(x().studentFeatures, x().studentAnchorFeatures));
    });

    it('has finite, non-zero gradients with respect to the student', () => {
      const before = tf.memory().numTensors;
      const kdGrad = tf.grad(
        (s: tf.Tensor) => kdLoss(s as tf.Tensor2D, x().teacherLogits, x().labels, c.params).total,
      );
      const pktGrad = tf.grad((s: tf.Tensor) => pktLoss(s as tf.Tensor2D, x().teacherFeatures));
      const akdGrads = tf.grads(
        (s: tf.Tensor, sa: tf.Tensor) =>
          akdLoss(
            s as tf.Tensor2D,
            x().teacherFeatures,
            sa as tf.Tensor2D,
            x().teacherAnchorFeatures,
            c.params,
          ).total,
      );
      const gradients = tf.tidy(() => ({
        kd: kdGrad(x().studentLogits),
        pkt: pktGrad(x().studentFeatures),
        akd: akdGrads([x().studentFeatures, x().studentAnchorFeatures]),
      }));
      expectUsefulGradient('kd / logits', gradients.kd);
      expectUsefulGradient('pkt / features', gradients.pkt);
      expectUsefulGradient('akd / features', gradients.akd[0]!);
      expectUsefulGradient('akd / anchor features', gradients.akd[1]!);
      tf.dispose(gradients);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('treats a zero feature row as finite, in values and in gradients', () => {
    const c = cases[cases.length - 1]!;
    const zeroFirstRow = (rows: number[][]) =>
      tf.tensor2d(rows.map((r, i) => (i === 0 ? r.map(() => 0) : r)));
    const student = zeroFirstRow(c.inputs.studentFeatures);
    const teacher = tf.tensor2d(c.inputs.teacherFeatures);
    const studentAnchors = tf.tensor2d(c.inputs.studentAnchorFeatures);
    const teacherAnchors = tf.tensor2d(c.inputs.teacherAnchorFeatures);
    const [pkt, akd, uncertainty, pktGrad, akdGrad] = tf.tidy(() => [
      pktLoss(student, teacher),
      akdLoss(student, teacher, studentAnchors, teacherAnchors, c.params).total,
      anchorUncertainty(student, studentAnchors),
      tf.grad((s: tf.Tensor) => pktLoss(s as tf.Tensor2D, teacher))(student),
      tf.grad(
        (s: tf.Tensor) => akdLoss(s as tf.Tensor2D, teacher, studentAnchors, teacherAnchors, c.params).total,
      )(student),
    ]);
    for (const t of [pkt!, akd!, uncertainty!, pktGrad!, akdGrad!])
      for (const v of t.dataSync()) expect(Number.isFinite(v)).toBe(true);
    // A zero row has cosine 0 with everything: K = 1/2, so its uncertainty is exactly 1/2.
    expect(uncertainty!.dataSync()[0]).toBeCloseTo(0.5, 6);
    tf.dispose([
      student,
      teacher,
      studentAnchors,
      teacherAnchors,
      pkt!,
      akd!,
      uncertainty!,
      pktGrad!,
      akdGrad!,
    ]);
  });

  it('rejects mismatched shapes before computing anything', () => {
    const { studentLogits, teacherLogits, studentFeatures } = inputs[0]!;
    const params = cases[0]!.params;
    const flat = studentFeatures.reshape([-1]) as unknown as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => kdLoss(studentLogits, teacherLogits, [0, 1], params)).toThrow(/labels/);
    expect(() => kdLoss(studentLogits, inputs[1]!.teacherLogits, cases[0]!.inputs.labels, params)).toThrow(
      /same shape/,
    );
    expect(() => pktLoss(studentFeatures, inputs[1]!.teacherFeatures)).toThrow(/same number of rows/);
    expect(() => pktLoss(flat, flat)).toThrow(/\[rows, dim\]/);
    expect(tf.memory().numTensors).toBe(before);
    flat.dispose();
  });
});
