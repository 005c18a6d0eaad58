import type { Dataset } from '../dataset';
import type { XGBoostSpec } from '../spec';
import { evaluateWalkForward } from '../validation/evaluate';
import type { Fold } from '../validation/walk-forward';
import { successiveHalving, type HalvingState, type ParamSpace, type Trial } from './successive-halving';

export const DEFAULT_XGBOOST_SPACE: ParamSpace = {
  max_depth: { kind: 'int', min: 2, max: 6 },
  eta: { kind: 'float', min: 0.02, max: 0.3, log: true },
  subsample: { kind: 'float', min: 0.5, max: 1 },
  min_child_weight: { kind: 'float', min: 0.5, max: 20, log: true },
};

/**
 * Hyperparameter search for an XGBoost spec on walk-forward folds: the resource is boosting rounds, the score is
 * out-of-sample net dollar P&L summed over the folds (the same folds for every trial).
 */
export async function tuneXGBoost(
  ds: Dataset,
  base: XGBoostSpec,
  folds: Fold[],
  opts: {
    space?: ParamSpace;
    trials: number;
    minRounds: number;
    budgetRounds: number;
    eta?: number;
    seed?: number;
    statePath?: string;
    /** Extra XGBoost parameters for every fit (the node's `device`). */
    params?: Record<string, string | number | boolean>;
  },
): Promise<{ best: Trial; spec: XGBoostSpec; state: HalvingState }> {
  const { best, state } = await successiveHalving({
    space: opts.space ?? DEFAULT_XGBOOST_SPACE,
    trials: opts.trials,
    minResource: opts.minRounds,
    eta: opts.eta,
    budget: opts.budgetRounds,
    seed: opts.seed,
    statePath: opts.statePath,
    evaluate: async (params, rounds) => {
      const wf = await evaluateWalkForward(
        ds,
        { ...base, rounds, params: { ...base.params, ...params } },
        folds,
        { params: opts.params },
      );
      return wf.summary.netPnl;
    },
  });
  const rounds = opts.minRounds * (opts.eta ?? 3) ** Math.max(0, best.scores.length - 1);
  return { best, spec: { ...base, rounds, params: { ...base.params, ...best.params } }, state };
}
