/**
 * The engine's public surface: what the UI's Worker, the CLI and other programs may import from the engine
 * without reaching into its folders. A plain list of re-exports; the modules document themselves.
 */
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
} from './distill/losses';
export { auroc } from './metrics/auroc';
export {
  type AnchorOptions,
  type AnchorScorer,
  type AnchorSet,
  anchorUncertaintyOf,
  rankAnchors,
  recordImages,
  selectAnchors,
  teacherFeatures,
} from './distill/anchors';
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
} from './distill/method';
export { DISTILL_METHODS, findMethod } from './distill/registry';
export { interpolationMatrix, resizeBilinear, upsampleMasks } from './distill/resize';
