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
export {
  type AnchorOptions,
  type AnchorScorer,
  type AnchorSet,
  anchorUncertaintyOf,
  rankAnchors,
  recordImages,
  selectAnchors,
  teacherFeatures,
} from './anchors';
export {
  chooseLabelled,
  defaultParams,
  type DistillMethod,
  type JsonValue,
  LABELLED_FRACTIONS,
  type MethodContext,
  type MethodInstance,
  type MethodParam,
  MethodParamError,
  type MethodState,
  type ParamValues,
  type StateArray,
  stopGradient,
  validateParams,
} from './method';
export { DISTILL_METHODS, findMethod } from './registry';
