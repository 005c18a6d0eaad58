/**
 * How a hyperparameter trial's parameters become a model spec, and the default search space. Pure (no Node
 * imports): the HPO workflow builds the winning spec with it, the trial activity every trial's spec.
 *
 * XGBoost: `rounds` sets the number of boosting rounds, every other key goes into the booster's `params`
 * (max_depth, eta, subsample, …). Neural nets: a key sets the spec field of that name (units, learningRate,
 * window, epochs, …); the spec's schema validates the result when the trial is run.
 */
import type { HpoParamDto } from '../../contracts/learning';
import type { RetrainModelSpec } from '../../contracts/retrain';

export const DEFAULT_XGBOOST_SEARCH_SPACE: Readonly<Record<string, HpoParamDto>> = {
  max_depth: { kind: 'int', min: 2, max: 6 },
  eta: { kind: 'float', min: 0.02, max: 0.3, log: true },
  subsample: { kind: 'float', min: 0.5, max: 1 },
  min_child_weight: { kind: 'float', min: 0.5, max: 20, log: true },
};

export const DEFAULT_NET_SEARCH_SPACE: Readonly<Record<string, HpoParamDto>> = {
  learningRate: { kind: 'float', min: 1e-4, max: 3e-2, log: true },
};

export function defaultSearchSpace(spec: RetrainModelSpec): Readonly<Record<string, HpoParamDto>> {
  return spec.kind === 'xgboost' ? DEFAULT_XGBOOST_SEARCH_SPACE : DEFAULT_NET_SEARCH_SPACE;
}

export function applyTrialParams(
  spec: RetrainModelSpec,
  params: Readonly<Record<string, string | number>>,
): RetrainModelSpec {
  if (spec.kind === 'xgboost') {
    const { rounds, ...rest } = params;
    return {
      ...spec,
      ...(rounds !== undefined ? { rounds: Math.round(Number(rounds)) } : {}),
      params: { ...spec.params, ...rest },
    };
  }
  return { ...spec, ...params } as RetrainModelSpec;
}
