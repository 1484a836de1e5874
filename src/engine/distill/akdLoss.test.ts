/**
 * akdLoss's written-out gradient (losses.ts akdTermsWithGradient) against autodiff of the formulas it replaced:
 * the loss terms and the gradients with respect to the student's features and anchor features agree to 1e-5
 * relative, at the students' shapes (cnn-small: 1024-dim features, resnet8: 64), on the PyTorch reference
 * cases, with a zero feature row, and for any weighting of the three terms (the custom gradient's dy); and a
 * whole AKD step (the method's loss) equals CE + weight * L_AKD of the formulas, terms and gradients to the
 * student's weights and the masks, for cnn-small and resnet8.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { IMAGE_BYTES, type ImageSplit } from '../data/cifar10';
import { findPreset } from '../models/presets';
import { makeBatch } from '../training/batches';
import { recordImages } from './anchors';
import { freezeTeacher } from './frozenTeacher';
import { type AkdLossTerms, type AkdOptions, akdLoss, cosineKernel, KL_EPS, rowNormalise } from './losses';
import { stopGradient } from './method';
import { akdMethod } from './methods/akd';
import { labelledCrossEntropy } from './methods/compose';
import { upsampleMasks } from './resize';
import reference from './reference/losses-and-metrics.json';

const TOLERANCE = 1e-5;

/** AKD's loss as it was computed before the written-out gradient: the formulas, differentiated op by op. */
function akdLossByFormula(
  studentFeatures: tf.Tensor2D,
  teacherFeatures: tf.Tensor2D,
  studentAnchorFeatures: tf.Tensor2D,
  teacherAnchorFeatures: tf.Tensor2D,
  { lambda1, lambda2 }: AkdOptions,
): AkdLossTerms {
  return tf.tidy(() => {
    const sumKl = (pTeacher: tf.Tensor2D, pStudent: tf.Tensor2D) =>
      tf.sum(
        tf.mul(pTeacher, tf.log1p(tf.div(tf.sub(pTeacher, pStudent), tf.add(pStudent, KL_EPS)))),
      ) as tf.Scalar;
    const l1 = sumKl(
      rowNormalise(cosineKernel(teacherFeatures, teacherFeatures)),
      rowNormalise(cosineKernel(studentFeatures, studentFeatures)),
    );
    const kStudent = cosineKernel(studentFeatures, studentAnchorFeatures);
    const kTeacher = cosineKernel(teacherFeatures, teacherAnchorFeatures);
    const l2 = sumKl(rowNormalise(kTeacher), rowNormalise(kStudent));
    const l3 = sumKl(rowNormalise(tf.transpose(kTeacher)), rowNormalise(tf.transpose(kStudent)));
    const total = tf.addN([tf.mul(l1, lambda1), tf.mul(l2, 1 - lambda2), tf.mul(l3, lambda2)]) as tf.Scalar;
    return { l1, l2, l3, total };
  });
}

type AkdLossFunction = typeof akdLoss;

interface Inputs {
  readonly student: tf.Tensor2D;
  readonly teacher: tf.Tensor2D;
  readonly studentAnchors: tf.Tensor2D;
  readonly teacherAnchors: tf.Tensor2D;
  readonly options: AkdOptions;
}

/** Terms, and gradients of sum(weights . [l1, l2, l3, total]) with respect to both student inputs. */
function evaluate(loss: AkdLossFunction, x: Inputs, weights: readonly number[]) {
  return tf.tidy(() => {
    const terms = loss(x.student, x.teacher, x.studentAnchors, x.teacherAnchors, x.options);
    const objective = (s: tf.Tensor, a: tf.Tensor) => {
      const t = loss(s as tf.Tensor2D, x.teacher, a as tf.Tensor2D, x.teacherAnchors, x.options);
      return tf.addN([t.l1, t.l2, t.l3, t.total].map((term, i) => tf.mul(term, weights[i]!))) as tf.Scalar;
    };
    const [dStudent, dAnchors] = tf.grads(objective)([x.student, x.studentAnchors]);
    return {
      values: [terms.l1, terms.l2, terms.l3, terms.total].map((t) => t.dataSync()[0]!),
      dStudent: dStudent!.dataSync(),
      dAnchors: dAnchors!.dataSync(),
    };
  });
}

/**
 * Largest |got - want| over the largest |want|: elementwise error relative to the gradient's scale (the plain
 * largest error where want is all zero, e.g. the anchors' gradient of L1 alone).
 */
function scaledError(
  got: Float32Array | Int32Array | Uint8Array,
  want: Float32Array | Int32Array | Uint8Array,
) {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    error = Math.max(error, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return scale > 0 ? error / scale : error;
}

function expectSameAsFormula(x: Inputs, weights: readonly number[] = [0, 0, 0, 1]): void {
  const got = evaluate(akdLoss, x, weights);
  const want = evaluate(akdLossByFormula, x, weights);
  ['l1', 'l2', 'l3', 'total'].forEach((name, i) =>
    expect(Math.abs(got.values[i]! - want.values[i]!) / Math.abs(want.values[i]!), name).toBeLessThan(
      TOLERANCE,
    ),
  );
  expect(scaledError(got.dStudent, want.dStudent), 'gradient / student features').toBeLessThan(TOLERANCE);
  expect(scaledError(got.dAnchors, want.dAnchors), 'gradient / student anchor features').toBeLessThan(
    TOLERANCE,
  );
  for (const v of [...got.dStudent, ...got.dAnchors]) expect(Number.isFinite(v)).toBe(true);
}

const seeded = (shape: [number, number], seed: number, mean = 0) =>
  tf.randomNormal(shape, mean, 1, 'float32', seed) as tf.Tensor2D;

/** Random inputs at a student's shapes: a batch of 64, 10 anchors, the vgg-fast teacher's 256 features. */
function randomInputs(studentDim: number, options: AkdOptions, mean = 0): Inputs {
  return {
    student: seeded([64, studentDim], 1, mean),
    teacher: seeded([64, 256], 2),
    studentAnchors: seeded([10, studentDim], 3, mean),
    teacherAnchors: seeded([10, 256], 4),
    options,
  };
}

const AUTHORS = { lambda1: 1, lambda2: 0.1 };

describe.each(['cpu', 'wasm'] as const)(
  'akdLoss = the formulas differentiated op by op, on %s',
  (backend) => {
    beforeAll(async () => {
      if (backend === 'cpu') expect(await tf.setBackend('cpu')).toBe(true);
      else expect((await initBackend('wasm')).backend).toBe('wasm');
    });

    it.each([
      ['cnn-small', 1024],
      ['resnet8', 64],
    ])('at %s shapes (features of %i), the authors’ lambdas', (_, dim) => {
      const x = randomInputs(dim, AUTHORS);
      expectSameAsFormula(x);
      // ReLU-like features (all positive, so every cosine is high): the kernels nearly flat.
      const positive = { ...x, student: tf.relu(x.student), studentAnchors: tf.relu(x.studentAnchors) };
      expectSameAsFormula(positive);
      tf.dispose([
        x.student,
        x.teacher,
        x.studentAnchors,
        x.teacherAnchors,
        positive.student,
        positive.studentAnchors,
      ]);
    });

    it('for any weighting of l1, l2, l3 and total (each alone, and mixed with other lambdas)', () => {
      const x = randomInputs(96, { lambda1: 0.7, lambda2: 0.35 }, 0.3);
      for (const weights of [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0.3, -2, 1.5, 0.5],
      ])
        expectSameAsFormula(x, weights);
      tf.dispose([x.student, x.teacher, x.studentAnchors, x.teacherAnchors]);
    });

    it('on the PyTorch reference cases', () => {
      for (const c of reference.losses) {
        const x: Inputs = {
          student: tf.tensor2d(c.inputs.studentFeatures),
          teacher: tf.tensor2d(c.inputs.teacherFeatures),
          studentAnchors: tf.tensor2d(c.inputs.studentAnchorFeatures),
          teacherAnchors: tf.tensor2d(c.inputs.teacherAnchorFeatures),
          options: c.params,
        };
        expectSameAsFormula(x);
        tf.dispose([x.student, x.teacher, x.studentAnchors, x.teacherAnchors]);
      }
    });

    it('with a zero feature row and a zero anchor row (the floored norm passes no gradient through it)', () => {
      const x = randomInputs(32, AUTHORS);
      const zeroFirstRow = (t: tf.Tensor2D) =>
        tf.concat([tf.zeros([1, t.shape[1]]), t.slice([1, 0], [-1, -1])]) as tf.Tensor2D;
      const zeroed = {
        ...x,
        student: zeroFirstRow(x.student),
        studentAnchors: zeroFirstRow(x.studentAnchors),
      };
      expectSameAsFormula(zeroed);
      tf.dispose([
        x.student,
        x.teacher,
        x.studentAnchors,
        x.teacherAnchors,
        zeroed.student,
        zeroed.studentAnchors,
      ]);
    });

    it('keeps no tensor of its backward pass', () => {
      const x = randomInputs(16, AUTHORS);
      const before = tf.memory().numTensors;
      evaluate(akdLoss, x, [0, 0, 0, 1]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x.student, x.teacher, x.studentAnchors, x.teacherAnchors]);
    });
  },
);

describe('an AKD step (wasm) = CE + weight * L_AKD of the formulas, as akd.ts composes them', () => {
  const BATCH = 12;
  const WEIGHT_DECAY = 5e-4;
  const count = 40;
  const pixels = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  const train: ImageSplit = {
    images: pixels,
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
  };
  const indices = Array.from({ length: BATCH }, (_, i) => (i * 7) % count);

  beforeAll(async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm');
  });

  it.each(['cnn-small', 'resnet8'])(
    '%s: terms, and gradients to every student weight and the masks',
    async (preset) => {
      const student = findPreset(preset).build(1);
      const teacher = findPreset('vgg-fast').build(2);
      const instance = await akdMethod.create(
        {
          student,
          teacher,
          train,
          seed: 1,
          batchSize: BATCH,
          labelledFraction: 1,
          weightDecay: WEIGHT_DECAY,
        },
        {},
      );
      const masks = instance.extra.ownGroups![0]!.variables[0]!;
      // Masks away from their initial ones, so that their gradient goes through a real upsampling.
      masks.assign(tf.randomUniform(masks.shape, 0.5, 1.5, 'float32', 7));
      const variables = [...student.trainableWeights.map((w) => w.read() as tf.Variable), masks];
      const images = tf.tensor4d(makeBatch(train, indices), [BATCH, 32, 32, 3]);
      const labels = tf.tensor1d(
        indices.map((i) => train.labels[i]!),
        'int32',
      );
      const { anchors } = await instance.anchorMasks!();
      const anchorImages = recordImages(train, anchors.indices);
      const teacherAnchorFeatures = (
        teacher.apply(anchorImages, { training: false }) as tf.Tensor[]
      )[1] as tf.Tensor2D;
      const frozen = freezeTeacher(teacher);
      const kernels = student.trainableWeights
        .filter((w) => w.originalName.endsWith('/kernel'))
        .map((w) => w.read());

      const step = (objective: () => Record<string, tf.Scalar>) => {
        let terms: Record<string, number> = {};
        const { value, grads } = tf.variableGrads(() => {
          const out = objective();
          terms = Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.dataSync()[0]!]));
          return out.total!;
        }, variables);
        const gradients = variables.map((v) => grads[v.name]!.dataSync());
        tf.dispose([value, grads]);
        return { terms, gradients };
      };
      const got = step(() => {
        const { terms } = instance.loss({ images, labels, indices, training: true });
        return { ...terms } as Record<string, tf.Scalar>;
      });
      // The formulas' step; `scale` multiplies the student's features and anchor features before the loss (the
      // cosine kernels are the same in exact arithmetic; in float32 it shows the formulas' own rounding).
      const byFormula = (scale: number) =>
        step(() => {
          const studentOut = student.apply(images, { training: true }) as tf.Tensor[];
          const teacherOut = stopGradient(() => frozen.run(images));
          const ce = labelledCrossEntropy(studentOut[0] as tf.Tensor2D, labels, tf.ones([BATCH]));
          const mean = stopGradient(() => tf.mean(masks, [1, 2], true));
          const masked = tf.mul(anchorImages, upsampleMasks(tf.div(masks, mean) as tf.Tensor4D, 32));
          const studentAnchorFeatures = (
            student.apply(masked, { training: true }) as tf.Tensor[]
          )[1] as tf.Tensor2D;
          const akd = akdLossByFormula(
            tf.mul(studentOut[1] as tf.Tensor2D, scale),
            teacherOut[1] as tf.Tensor2D,
            tf.mul(studentAnchorFeatures, scale),
            teacherAnchorFeatures,
            AUTHORS,
          );
          const weightDecay = tf.mul(
            0.5 * WEIGHT_DECAY,
            tf.addN(kernels.map((k) => tf.sum(tf.square(k)))),
          ) as tf.Scalar;
          const total = tf.addN([ce, tf.mul(akd.total, 10), weightDecay]) as tf.Scalar;
          return { ce, l1: akd.l1, l2: akd.l2, l3: akd.l3, akd: akd.total, weightDecay, total };
        });
      const want = byFormula(1);
      const wantRescaled = byFormula(3);

      expect(Object.keys(got.terms).sort()).toEqual(Object.keys(want.terms).sort());
      for (const [name, value] of Object.entries(want.terms))
        expect(Math.abs(got.terms[name]! - value) / Math.abs(value), name).toBeLessThan(TOLERANCE);
      // Every student weight to 1e-5 (measured: <= 2e-6). The masks' gradient sums signed pixel terms over each
      // cell (heavy cancellation on these noise images): the formulas alone move it by 2e-5 (resnet8) to 2e-4
      // (cnn-small) under the x3 rescaling, so there it must stay within 1e-5 or twice that spread (measured:
      // 1.5e-5 and 6.7e-5).
      variables.forEach((v, i) => {
        const error = scaledError(got.gradients[i]!, want.gradients[i]!);
        const ownSpread = scaledError(wantRescaled.gradients[i]!, want.gradients[i]!);
        const tolerance = v === masks ? Math.max(TOLERANCE, 2 * ownSpread) : TOLERANCE;
        expect(error, `gradient / ${v.name} (the formulas' own spread: ${ownSpread})`).toBeLessThan(
          tolerance,
        );
      });
      tf.dispose([images, labels, anchorImages, teacherAnchorFeatures]);
      frozen.dispose();
      instance.dispose();
      student.dispose();
      teacher.dispose();
    },
  );
});
