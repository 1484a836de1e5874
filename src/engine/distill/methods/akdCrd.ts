/**
 * AKD + CRD: total = CE + akd.weight * L_AKD + crd.weight * crd, one CE of weight 1. Terms: ce, akd, akd.l1,
 * akd.l2, akd.l3, crd, total. Defaults: each component's own (AKD: the authors'; CRD: RepDistiller's, with 1,024
 * negatives for the browser); the AKD paper reports this combination.
 */
import { akdComponent } from './akd';
import { combinedMethod } from './compose';
import { crdComponent } from './crd';

export const akdCrdMethod = combinedMethod(
  {
    id: 'akd+crd',
    label: 'AKD + CRD',
    summary: 'Anchor-based KD plus contrastive representation distillation, one cross-entropy.',
    defaultsFrom: "AKD: the authors' code; CRD: RepDistiller (weight 0.8, 1024 negatives); CE weight 1",
  },
  [akdComponent, crdComponent],
);
