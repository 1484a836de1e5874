/**
 * PKT, probabilistic knowledge transfer (Passalis & Tefas 2018): on the penultimate features, the batch's
 * cosine kernels (K = (cos + 1) / 2), rows normalised, KL(teacher || student) with eps 1e-7, mean over entries
 * (losses.ts pktLoss; DESIGN.md section 3); total = CE + weight * pkt.
 * Defaults from RepDistiller (--distill pkt: -r 1 -a 0 -b 30000).
 */
import * as tf from '@tensorflow/tfjs';
import { pktLoss } from '../losses';
import { type ComponentSpec, singleMethod } from './compose';

export const pktComponent: ComponentSpec = {
  id: 'pkt',
  params: [
    {
      name: 'weight',
      label: 'PKT weight',
      default: 30_000,
      min: 0,
      max: 1_000_000,
      help: 'Weight of the kernel-distribution KL (a mean over batch^2 entries, hence large; RepDistiller: 30000).',
    },
  ],
  async create(_context, params) {
    const weight = params.weight!;
    return {
      teacherOutputs: [1],
      forward({ student: s, teacher: t }) {
        const pkt = pktLoss(s[1] as tf.Tensor2D, t[1] as tf.Tensor2D);
        return { terms: { pkt }, weighted: tf.mul(pkt, weight) as tf.Scalar };
      },
    };
  },
};

export const pktMethod = singleMethod(
  {
    id: 'pkt',
    label: 'PKT',
    summary: "Match the distribution of cosine similarities within a batch of the teacher's features.",
    defaultsFrom: 'Passalis & Tefas 2018; RepDistiller (weight 30000)',
  },
  pktComponent,
);
