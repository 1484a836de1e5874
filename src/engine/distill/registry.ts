/**
 * Every distillation method, in the order the UI lists them; adding a method is one file in methods/ and one
 * line here.
 */
import type { DistillMethod } from './method';
import { akdMethod } from './methods/akd';
import { akdCrdMethod } from './methods/akdCrd';
import { akdKdMethod } from './methods/akdKd';
import { atMethod } from './methods/at';
import { ceMethod } from './methods/ce';
import { crdMethod } from './methods/crd';
import { dkdMethod } from './methods/dkd';
import { fitnetMethod } from './methods/fitnet';
import { kdMethod } from './methods/kd';
import { ndKdMethod, ndMethod } from './methods/nd';
import { pktMethod } from './methods/pkt';
import { rkdMethod } from './methods/rkd';
import { spMethod } from './methods/sp';

export const DISTILL_METHODS: readonly DistillMethod[] = [
  ceMethod,
  kdMethod,
  fitnetMethod,
  atMethod,
  spMethod,
  rkdMethod,
  pktMethod,
  dkdMethod,
  crdMethod,
  akdMethod,
  akdKdMethod,
  akdCrdMethod,
  ndMethod,
  ndKdMethod,
];

export function findMethod(id: string): DistillMethod {
  const method = DISTILL_METHODS.find((m) => m.id === id);
  if (!method)
    throw new Error(
      `unknown distillation method "${id}"; methods: ${DISTILL_METHODS.map((m) => m.id).join(', ')}`,
    );
  return method;
}
