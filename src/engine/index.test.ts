import { describe, expect, it } from 'vitest';
import * as engine from './index';

describe('the engine surface', () => {
  it('exports the losses, the anchor scorer, AUROC and the exact mask upsampling as functions', () => {
    for (const name of [
      'kdLoss',
      'pktLoss',
      'akdLoss',
      'anchorUncertainty',
      'auroc',
      'upsampleMasks',
    ] as const)
      expect(typeof engine[name], name).toBe('function');
  });
});
