/** One call from a backtest result to everything a report shows. */
import type { BacktestResult } from './engine';
import { attribute, computeMetrics, periodReturns, type Attribution, type BacktestMetrics } from './metrics';
import { monteCarloBootstrap, monteCarloTradeOrder, type McOptions, type McSummary } from './monte-carlo';

export interface Analysis {
  readonly metrics: BacktestMetrics;
  readonly attribution: Attribution;
  readonly monteCarlo: { readonly tradeOrder?: McSummary; readonly bootstrap?: McSummary };
}

export function analyse(r: BacktestResult, mc: McOptions = {}): Analysis {
  const metrics = computeMetrics(r);
  const tradeReturns = r.trades.map((t) => t.returnOnEquity);
  const pr = periodReturns(r.equityTs, r.equity);
  return {
    metrics,
    attribution: attribute(r.trades),
    monteCarlo: {
      tradeOrder:
        tradeReturns.length > 1 ? monteCarloTradeOrder(tradeReturns, r.startingCash, mc) : undefined,
      bootstrap:
        pr.returns.length > 1
          ? monteCarloBootstrap(pr.returns, r.startingCash, { ...mc, seed: (mc.seed ?? 7) + 1 })
          : undefined,
    },
  };
}
