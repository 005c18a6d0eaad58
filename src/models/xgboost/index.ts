export { xgboostNative, XGBoostError, type XGBoostNative } from './native';
export {
  Booster,
  DMatrix,
  parseEvalString,
  type ImportanceType,
  type PredictType,
  type XGBParams,
} from './booster';
export {
  train,
  type CustomMetric,
  type CustomObjective,
  type GradHess,
  type TrainOptions,
  type TrainResult,
  type TrainState,
} from './train';
