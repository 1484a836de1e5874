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
export { energyScore, entropyScore, mspScore } from './metrics/softmaxScores';
export { aupr } from './metrics/aupr';
export { fpr95 } from './metrics/fpr95';
export { expectedCalibrationError, type ReliabilityBin, reliabilityBins } from './metrics/calibration';
export { type OodModel, type OodProgress, type OodRequest, OodLab } from './ood/oodLab';
export type { OodModelResult, OodResult, OodRow, OodSetInfo } from './ood/oodTypes';
export { BUILT_IN_OOD_SETS, noiseSet, oodSetFromFiles } from './ood/oodSets';
export { OOD_SCORES, type OodScore, scoreImages } from './ood/scoreImages';
export {
  accuracyOf,
  type ClassProbability,
  classSimilarity,
  darkKnowledge,
  entropy,
  entropyAt,
  entropyCurve,
  kdSoftTerm,
  logSoftmaxAt,
  logTemperatures,
  MAX_TEMPERATURE,
  meanKdSoftTerm,
  MIN_TEMPERATURE,
  mostUncertain,
  rankClasses,
  softmaxAt,
} from './config/temperature';
export {
  LogitsCache,
  logitsInSlices,
  type SplitLogits,
  type StudentSource,
  testSamples,
} from './explorer/splitLogits';
