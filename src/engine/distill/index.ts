export {
  akdLoss,
  type AkdLossTerms,
  type AkdOptions,
  anchorUncertainty,
  cosineKernel,
  kdLoss,
  type KdLossTerms,
  type KdOptions,
  KL_EPS,
  NORM_EPS,
  pktLoss,
  rowNormalise,
} from './losses';
export { auroc } from '../metrics/auroc';
