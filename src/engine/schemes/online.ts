/**
 * Online distillation: a teacher and a student both trained from scratch in one run, with the KD guide's
 * weights:
 *   teacher: CE;
 *   student: 0.5 CE + 0.5 T^2 KL(softmax(t/T) detached || softmax(s/T)) (T 3, KD's soft term: losses.ts kdLoss)
 *            + 0.1 x mean CE of auxiliary heads (global average pool + dense) on the student's stage features.
 * The teacher's logits are detached in the student's KL: the teacher learns from the labels alone and is not
 * pulled toward the weaker student. The heads train with the student's optimizer and are saved in its
 * checkpoint's method state. See docs/design.md, "Schemes".
 */
import * as tf from '@tensorflow/tfjs';
import { kdLoss } from '../distill/losses';
import type { MethodParam } from '../distill/method';
import { initSeed, methodVariable, restoreVariables, variablesState } from '../distill/methods/methodState';
import type { LossTerms } from '../training/trainer';
import type { MultiSchemeDef } from './multiRun';
import { detached } from './mutual';
import { plainTerms } from './multiTrainer';

export const ONLINE_PARAMS: readonly MethodParam[] = [
  {
    name: 'temperature',
    label: 'Temperature T',
    default: 3,
    min: 0.5,
    max: 20,
    help: 'KD temperature of the student (the guide: 3).',
  },
  {
    name: 'ce',
    label: 'Student CE weight',
    default: 0.5,
    min: 0,
    max: 1,
    help: "Weight of the student's CE (the guide: 0.5).",
  },
  {
    name: 'kd',
    label: 'KD weight',
    default: 0.5,
    min: 0,
    max: 1,
    help: "Weight of the student's T^2 KL to the teacher (the guide: 0.5).",
  },
  {
    name: 'aux',
    label: 'Auxiliary weight',
    default: 0.1,
    min: 0,
    max: 1,
    help: "Weight of the auxiliary heads' mean CE (the guide: 0.1).",
  },
];

/** Student k's auxiliary head logits: global average pool of a stage map, then a dense layer. */
function headLogits(stage: tf.Tensor, kernel: tf.Variable, bias: tf.Variable): tf.Tensor2D {
  return tf.add(tf.matMul(tf.mean(stage, [1, 2]) as tf.Tensor2D, kernel), bias) as tf.Tensor2D;
}

/**
 * The online terms for one batch, given both models' outputs ([logits, features, stage1, ...]) and the heads:
 * exported for the unit test's hand-computed case.
 */
export function onlineTerms(
  teacherLogits: tf.Tensor2D,
  studentOut: readonly tf.Tensor[],
  heads: readonly { kernel: tf.Variable; bias: tf.Variable }[],
  labels: tf.Tensor1D,
  params: { temperature: number; ce: number; kd: number; aux: number },
): { ce: tf.Scalar; kd: tf.Scalar; aux: tf.Scalar; weighted: tf.Scalar } {
  return tf.tidy(() => {
    const logits = studentOut[0] as tf.Tensor2D;
    const classes = logits.shape[1];
    const { soft } = kdLoss(logits, detached(teacherLogits), labels, {
      temperature: params.temperature,
      alpha: 1,
    });
    const oneHot = tf.oneHot(labels, classes);
    const ce = tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    const auxes = heads.map((h, i) =>
      tf.losses.softmaxCrossEntropy(oneHot, headLogits(studentOut[2 + i]!, h.kernel, h.bias)),
    );
    const aux = (auxes.length ? tf.div(tf.addN(auxes), auxes.length) : tf.scalar(0)) as tf.Scalar;
    const weighted = tf.addN([
      tf.mul(ce, params.ce),
      tf.mul(soft, params.kd),
      tf.mul(aux, params.aux),
    ]) as tf.Scalar;
    return { ce, kd: soft, aux, weighted };
  });
}

export const onlineScheme: MultiSchemeDef = {
  id: 'online',
  params: ONLINE_PARAMS,
  create(members, params) {
    if (members.length !== 2)
      throw new Error(`online distillation trains a teacher and a student; got ${members.length} models`);
    const [teacher, student] = members as [(typeof members)[0], (typeof members)[0]];
    const stages = student.model.outputs.slice(2);
    const heads = stages.map((stage, i) => {
      const channels = stage.shape[stage.shape.length - 1]!;
      const seed = initSeed(student.config.seed, 900 + i);
      return {
        kernel: methodVariable(
          tf.initializers.glorotUniform({ seed }).apply([channels, 10]) as tf.Tensor,
          `online/aux${i + 1}/kernel`,
        ),
        bias: methodVariable(tf.zeros([10]), `online/aux${i + 1}/bias`),
      };
    });
    const byKey = Object.fromEntries(
      heads.flatMap((h, i) => [
        [`aux${i + 1}/kernel`, h.kernel],
        [`aux${i + 1}/bias`, h.bias],
      ]),
    );
    const values = { temperature: params.temperature!, ce: params.ce!, kd: params.kd!, aux: params.aux! };
    return {
      extra: { [student.name]: heads.flatMap((h) => [h.kernel, h.bias]) },
      loss: ({ images, labels, training }) =>
        tf.tidy(() => {
          const teacherLogits = (teacher.model.apply(images, { training }) as tf.Tensor[])[0] as tf.Tensor2D;
          const studentOut = student.model.apply(images, { training }) as tf.Tensor[];
          const studentLogits = studentOut[0] as tf.Tensor2D;
          const t = plainTerms(teacher.model, teacherLogits, labels, teacher.config.weightDecay);
          const s = plainTerms(student.model, studentLogits, labels, student.config.weightDecay);
          const online = onlineTerms(teacherLogits, studentOut, heads, labels, values);
          const out: Record<string, { terms: LossTerms; logits: tf.Tensor2D }> = {
            [teacher.name]: {
              terms: { ...t, total: tf.add(t.ce, t.weightDecay) as tf.Scalar },
              logits: teacherLogits,
            },
            [student.name]: {
              terms: {
                ce: online.ce,
                kd: online.kd,
                aux: online.aux,
                weightDecay: s.weightDecay,
                total: tf.add(online.weighted, s.weightDecay) as tf.Scalar,
              },
              logits: studentLogits,
            },
          };
          return out;
        }),
      async state() {
        return { [student.name]: await variablesState(byKey) };
      },
      restore(state) {
        restoreVariables(byKey, state[student.name] ?? {});
      },
      dispose() {
        tf.dispose(heads.flatMap((h) => [h.kernel, h.bias]));
      },
    };
  },
};
