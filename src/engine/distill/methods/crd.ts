/**
 * CRD, contrastive representation distillation (Tian, Krishnan & Isola 2020), as RepDistiller's CRDLoss with
 * its ContrastMemory and ContrastLoss: the student's and the teacher's penultimate features go through embedding
 * heads (linear + L2 normalisation, both trained with the student's optimizer); each embedding is scored against
 * the OTHER side's momentum memory bank (one row per training record, indexed by the batch's record indices):
 * its own record's row (positive) and `negatives` random rows, score exp(v . m / nceTemperature) divided by a
 * constant Z set on the first training batch (mean score x records); NCE loss with noise probability 1 / records;
 * `crd` = student-side NCE + teacher-side NCE; total = CE + weight * crd. After each training step the batch's
 * memory rows become normalise(momentum * row + (1 - momentum) * embedding).
 * Defaults from RepDistiller (--distill crd: feat_dim 128, nce_t 0.07, nce_m 0.5, -r 1 -a 0 -b 0.8), except the
 * number of negatives: 1,024 here against RepDistiller's 16,384, to keep the gathered [batch, negatives, dim]
 * scores within a browser's memory and time (raise it on a large GPU). Negatives are drawn uniformly from the
 * other records (RepDistiller's default 'exact' mode draws them from other CLASSES, which needs every label).
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../data/subset';
import { NORM_EPS } from '../losses';
import { stopGradient } from '../method';
import { type ComponentSpec, singleMethod } from './compose';
import {
  counterState,
  initSeed,
  methodVariable,
  readCounter,
  restoreVariables,
  variablesState,
} from './methodState';

/** ContrastLoss's epsilon. */
const NCE_EPS = 1e-7;

const normaliseRows = (x: tf.Tensor2D) =>
  tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), NORM_EPS * NORM_EPS))) as tf.Tensor2D;

/**
 * RepDistiller's ContrastLoss over scores [batch, 1 + negatives] (column 0 the positive):
 * -(sum log(P_pos / (P_pos + m Pn + eps)) + sum log(m Pn / (P_neg + m Pn + eps))) / batch, Pn = 1 / records.
 */
export function contrastLoss(scores: tf.Tensor2D, records: number): tf.Scalar {
  return tf.tidy(() => {
    const [batch, columns] = scores.shape;
    const mPn = (columns - 1) / records;
    const positive = tf.slice(scores, [0, 0], [batch, 1]);
    const negative = tf.slice(scores, [0, 1], [batch, columns - 1]);
    const logD1 = tf.log(tf.div(positive, tf.add(positive, mPn + NCE_EPS)));
    const logD0 = tf.log(tf.div(mPn, tf.add(negative, mPn + NCE_EPS)));
    return tf.div(tf.neg(tf.add(tf.sum(logD1), tf.sum(logD0))), batch) as tf.Scalar;
  });
}

export const crdComponent: ComponentSpec = {
  id: 'crd',
  params: [
    {
      name: 'weight',
      label: 'CRD weight',
      default: 0.8,
      min: 0,
      max: 100,
      help: 'Weight of the two NCE losses (RepDistiller: -b 0.8).',
    },
    {
      name: 'negatives',
      label: 'Negatives k',
      default: 1024,
      min: 16,
      max: 16_384,
      integer: true,
      help: 'Memory-bank negatives per image: 1024 for the browser (RepDistiller: 16384).',
    },
    {
      name: 'featureDim',
      label: 'Embedding size',
      default: 128,
      min: 16,
      max: 1024,
      integer: true,
      help: 'Size of the L2-normalised embeddings and memory rows (RepDistiller: 128).',
    },
    {
      name: 'nceTemperature',
      label: 'NCE temperature',
      default: 0.07,
      min: 0.01,
      max: 1,
      help: 'Scores are exp(embedding . memory row / temperature) (RepDistiller: 0.07).',
    },
    {
      name: 'momentum',
      label: 'Memory momentum',
      default: 0.5,
      min: 0,
      max: 0.999,
      help: "Share of a memory row's old value kept at each update (RepDistiller: 0.5).",
    },
  ],
  async create({ student, teacher, train, seed }, params) {
    const weight = params.weight!;
    const negatives = params.negatives!;
    const dim = params.featureDim!;
    const temperature = params.nceTemperature!;
    const momentum = params.momentum!;
    const records = train.count;
    if (records < 2) throw new Error('CRD needs at least 2 training records for its memory bank');
    const studentDim = student.outputs[1]!.shape[1] as number;
    const teacherDim = teacher.outputs[1]!.shape[1] as number;

    // nn.Linear's default initialisation U(-1/sqrt(in), 1/sqrt(in)); the memory U(-stdv, stdv), stdv = 1/sqrt(dim/3).
    const linear = (inDim: number, name: string, salt: number) => {
      const bound = 1 / Math.sqrt(inDim);
      return {
        kernel: methodVariable(
          tf.randomUniform([inDim, dim], -bound, bound, 'float32', initSeed(seed, salt)),
          `crd/${name}/kernel`,
        ),
        bias: methodVariable(
          tf.randomUniform([dim], -bound, bound, 'float32', initSeed(seed, salt + 1)),
          `crd/${name}/bias`,
        ),
      };
    };
    const embedStudent = linear(studentDim, 'embedStudent', 201);
    const embedTeacher = linear(teacherDim, 'embedTeacher', 203);
    const stdv = 1 / Math.sqrt(dim / 3);
    const memoryStudent = methodVariable(
      tf.randomUniform([records, dim], -stdv, stdv, 'float32', initSeed(seed, 205)),
      'crd/memoryStudent',
      false,
    );
    const memoryTeacher = methodVariable(
      tf.randomUniform([records, dim], -stdv, stdv, 'float32', initSeed(seed, 206)),
      'crd/memoryTeacher',
      false,
    );
    /** RepDistiller's Z_v1, Z_v2: set from the first training batch, then constant. */
    const zStudent = methodVariable(tf.scalar(1), 'crd/zStudent', false);
    const zTeacher = methodVariable(tf.scalar(1), 'crd/zTeacher', false);
    let zSet = false;
    /** Training steps taken: the negatives of step n are drawn from a stream seeded by (seed, n). */
    let steps = 0;

    const saved = {
      'embedStudent.kernel': embedStudent.kernel,
      'embedStudent.bias': embedStudent.bias,
      'embedTeacher.kernel': embedTeacher.kernel,
      'embedTeacher.bias': embedTeacher.bias,
      memoryStudent,
      memoryTeacher,
      zStudent,
      zTeacher,
    };

    /** [batch, 1 + negatives] record indices: the batch's own record, then uniform draws of the others. */
    const contrastIndices = (indices: readonly number[]) => {
      const random = seededRandom(`${seed}/crd/${steps}`);
      const out = new Int32Array(indices.length * (negatives + 1));
      indices.forEach((index, b) => {
        const row = b * (negatives + 1);
        out[row] = index;
        for (let k = 1; k <= negatives; k++) {
          let pick = Math.floor(random() * (records - 1));
          if (pick >= index) pick += 1;
          out[row + k] = pick;
        }
      });
      return tf.tensor2d(out, [indices.length, negatives + 1], 'int32');
    };

    /** exp(memory rows . v / T): [batch, 1 + negatives]. */
    const scores = (memory: tf.Variable, idx: tf.Tensor2D, v: tf.Tensor2D) => {
      const rows = tf.gather(memory, idx) as tf.Tensor3D;
      const dots = tf.squeeze(tf.matMul(rows, tf.expandDims(v, 2)), [2]);
      return tf.exp(tf.div(dots, temperature)) as tf.Tensor2D;
    };

    /** The batch's rows become normalise(momentum * row + (1 - momentum) * v); no gradient (call in stopGradient). */
    const updateMemory = (memory: tf.Variable, v: tf.Tensor2D, indices: readonly number[]) => {
      const own = tf.tensor1d(Int32Array.from(indices), 'int32');
      const rows = tf.gather(memory, own) as tf.Tensor2D;
      const blended = normaliseRows(tf.add(tf.mul(rows, momentum), tf.mul(v, 1 - momentum)) as tf.Tensor2D);
      memory.assign(tf.tensorScatterUpdate(memory, tf.expandDims(own, 1), blended));
    };

    return {
      withModel: [embedStudent.kernel, embedStudent.bias, embedTeacher.kernel, embedTeacher.bias],
      kernels: [embedStudent.kernel, embedTeacher.kernel],
      teacherOutputs: [1],
      forward({ student: s, teacher: t, indices, training }) {
        for (const i of indices)
          if (!(i >= 0 && i < records))
            throw new RangeError(`record index ${i} is outside CRD's memory (${records})`);
        const vs = normaliseRows(
          tf.add(tf.matMul(s[1] as tf.Tensor2D, embedStudent.kernel), embedStudent.bias),
        );
        const vt = normaliseRows(
          tf.add(tf.matMul(t[1] as tf.Tensor2D, embedTeacher.kernel), embedTeacher.bias),
        );
        const idx = contrastIndices(indices);
        // The student's embedding against the teacher's memory, and the other way round (ContrastMemory).
        let outStudent = scores(memoryTeacher, idx, vs);
        let outTeacher = scores(memoryStudent, idx, vt);
        if (training && !zSet) {
          stopGradient(() => {
            zStudent.assign(tf.mul(tf.mean(outStudent), records));
            zTeacher.assign(tf.mul(tf.mean(outTeacher), records));
          });
          zSet = true;
        }
        outStudent = tf.div(outStudent, zStudent);
        outTeacher = tf.div(outTeacher, zTeacher);
        const crd = tf.add(contrastLoss(outStudent, records), contrastLoss(outTeacher, records)) as tf.Scalar;
        if (training) {
          stopGradient(() => {
            updateMemory(memoryStudent, vs, indices);
            updateMemory(memoryTeacher, vt, indices);
          });
          steps += 1;
        }
        return { terms: { crd }, weighted: tf.mul(crd, weight) as tf.Scalar };
      },
      async state() {
        return {
          ...(await variablesState(saved)),
          steps: counterState(steps),
          zSet: counterState(zSet ? 1 : 0),
        };
      },
      restore(state) {
        restoreVariables(saved, state);
        steps = readCounter(state, 'steps');
        zSet = readCounter(state, 'zSet') === 1;
      },
      dispose: () => tf.dispose(Object.values(saved)),
    };
  },
};

export const crdMethod = singleMethod(
  {
    id: 'crd',
    label: 'CRD (contrastive)',
    summary:
      "Contrast each image's student embedding with the teacher's memory of it against 1,024 other images.",
    defaultsFrom:
      'Tian et al. 2020; RepDistiller (weight 0.8, dim 128, T 0.07, momentum 0.5; k 1024, not 16384)',
  },
  crdComponent,
);
