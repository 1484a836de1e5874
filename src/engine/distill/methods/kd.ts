/**
 * KD (Hinton, Vinyals & Dean 2015, "Distilling the knowledge in a neural network"):
 * `soft` = T^2 * KL(softmax(t/T) || softmax(s/T)) (losses.ts kdLoss), total = alpha * soft + (1 - alpha) * CE.
 * Defaults T = 4, alpha = 0.9: RepDistiller's CIFAR recipe (train_student.py --kd_T 4, scripts -r 0.1 -a 0.9).
 * Inside a combination this component adds alpha * soft and the combination's single CE keeps weight 1.
 */
import { kdLoss } from '../losses';
import { type ComponentSpec, singleMethod } from './compose';
import * as tf from '@tensorflow/tfjs';

export const kdComponent: ComponentSpec = {
  id: 'kd',
  params: [
    {
      name: 'temperature',
      label: 'Temperature T',
      default: 4,
      min: 0.5,
      max: 20,
      help: 'Softens both softmaxes; the soft term is scaled by T^2 (RepDistiller: 4).',
    },
    {
      name: 'alpha',
      label: 'KD weight alpha',
      default: 0.9,
      min: 0,
      max: 1,
      help: 'Weight of the soft term; CE gets 1 - alpha when KD is alone (RepDistiller: 0.9).',
    },
  ],
  ceWeight: (params) => 1 - params.alpha!,
  async create(_context, params) {
    const temperature = params.temperature!;
    const alpha = params.alpha!;
    return {
      teacherOutputs: [0],
      forward({ student, teacher, targets }) {
        // kdLoss's own `hard` is the CE over every label; the composition's CE (labelled images only) is used.
        const { soft } = kdLoss(student[0] as tf.Tensor2D, teacher[0] as tf.Tensor2D, targets, {
          temperature,
          alpha,
        });
        return { terms: { soft }, weighted: tf.mul(soft, alpha) as tf.Scalar };
      },
    };
  },
};

export const kdMethod = singleMethod(
  {
    id: 'kd',
    label: 'KD (Hinton)',
    summary: "Match the teacher's temperature-softened class probabilities.",
    defaultsFrom: 'Hinton et al. 2015; RepDistiller CIFAR recipe (T = 4, alpha = 0.9)',
  },
  kdComponent,
);
