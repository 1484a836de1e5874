/**
 * AKD + KD: total = CE + akd.weight * L_AKD + kd.alpha * kd.soft, one CE of weight 1 (RepDistiller's
 * gamma * CE + alpha * KD + beta * other with gamma = 1). Terms: ce, akd, akd.l1, akd.l2, akd.l3, kd.soft, total.
 * Defaults: each component's own (AKD: the authors'; KD: T = 4, alpha = 0.9 from RepDistiller); the AKD paper
 * reports this combination, with the authors' KD weight otherwise 0.
 */
import { akdComponent } from './akd';
import { combinedMethod } from './compose';
import { kdComponent } from './kd';

export const akdKdMethod = combinedMethod(
  {
    id: 'akd+kd',
    label: 'AKD + KD',
    summary: "Anchor-based KD plus Hinton's soft targets, one cross-entropy.",
    defaultsFrom: "AKD: the authors' code; KD: RepDistiller (T 4, weight 0.9); CE weight 1",
  },
  [akdComponent, kdComponent],
);
