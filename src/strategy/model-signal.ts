/**
 * Model signal: hold the direction the model predicts. At each bar of its timeframe the strategy reads the
 * symbol's prediction and targets `weight` of equity long when the expected return is above
 * `minExpectedReturn` with at least `minConfidence`, short when it is below −`minExpectedReturn`, flat otherwise
 * (and flat without a prediction). A long↔short change is two orders (close, then open), as in sma-trend.
 * Intraday: flat from `flattenBeforeCloseMs` before the session close.
 *
 * It adds no rule of its own beyond the model's sign, so a model backtest or the learning loop's comparison
 * (a frozen champion against continuous learning) measures the models, not a filter in front of them.
 */
import type { Command } from '../model/command';
import type { Timeframe } from '../model/timeframe';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type PredictionSet,
  type Strategy,
  type StrategyContext,
} from './types';

export interface ModelSignalParams {
  /** target position value per symbol as a fraction of equity */
  readonly weight: number;
  /** confidence a prediction needs to be followed (0.5: any) */
  readonly minConfidence?: number;
  /** |expected return| a prediction needs to be followed (fraction) */
  readonly minExpectedReturn?: number;
  readonly flattenBeforeCloseMs?: number;
}

export class ModelSignalStrategy implements Strategy {
  readonly name = 'model-signal';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars = 1;
  readonly timeframes: readonly Timeframe[];

  constructor(
    readonly p: ModelSignalParams,
    readonly timeframe: Timeframe = '5m',
  ) {
    if (!(p.weight > 0 && p.weight <= 1))
      throw new RangeError(`strategy.weight: ${p.weight} must be a fraction in (0, 1]`);
    if (p.minConfidence !== undefined && !(p.minConfidence >= 0.5 && p.minConfidence < 1))
      throw new RangeError(`strategy.minConfidence: ${p.minConfidence} must be in [0.5, 1)`);
    if (p.minExpectedReturn !== undefined && !(p.minExpectedReturn >= 0))
      throw new RangeError(`strategy.minExpectedReturn: ${p.minExpectedReturn} must be >= 0`);
    this.timeframes = [timeframe];
  }

  get params(): Record<string, number> {
    return {
      weight: this.p.weight,
      minConfidence: this.p.minConfidence ?? 0.5,
      minExpectedReturn: this.p.minExpectedReturn ?? 0,
    };
  }

  onBar(ctx: StrategyContext, bars: BarFeed, predictions?: PredictionSet): Command[] {
    const out: Command[] = [];
    const symbols = bars.updated
      .filter((u) => u.timeframe === this.timeframe)
      .map((u) => u.symbol)
      .sort();
    const flattenMs = this.p.flattenBeforeCloseMs ?? 5 * 60_000;
    for (const symbol of symbols) {
      if (ctx.portfolio.openOrders(symbol).length > 0) continue;
      const last = bars.last(symbol, this.timeframe)!.close;
      const close = this.timeframe === '1d' ? undefined : ctx.sessionClose(symbol, ctx.now - 1);
      if (close !== undefined && ctx.now >= close - flattenMs) {
        if (ctx.portfolio.position(symbol)) out.push(ctx.orders.flatten(symbol, 'before the close'));
        continue;
      }
      const preds = predictions?.[symbol] ?? [];
      const pred = preds.find((p) => p.timeframe === this.timeframe) ?? preds[0];
      const er = pred?.expectedReturn ?? 0;
      const follow =
        pred !== undefined &&
        pred.confidence >= (this.p.minConfidence ?? 0.5) &&
        Math.abs(er) > (this.p.minExpectedReturn ?? 0);
      const dir = follow ? Math.sign(er) : 0;
      const current = ctx.portfolio.position(symbol)?.qty ?? 0;
      const size = ctx.roundQty(symbol, (this.p.weight * ctx.portfolio.equity) / last);
      const target = dir * size;
      if (target === current || (Math.sign(target) === Math.sign(current) && target !== 0)) continue;
      const legs =
        current !== 0 && target !== 0 && Math.sign(current) !== Math.sign(target)
          ? [-current, target]
          : [target - current];
      for (const leg of legs) {
        const qty = ctx.roundQty(symbol, Math.abs(leg));
        if (qty <= 0) continue;
        const order = ctx.orders.market(symbol, leg > 0 ? 'buy' : 'sell', qty, {
          intent: Math.abs(current + leg) < Math.abs(current) ? 'exit' : 'entry',
          reason: `model ${pred?.model ?? 'none'} ${dir > 0 ? 'long' : dir < 0 ? 'short' : 'flat'}`,
          ...(pred ? { model: pred.model, timeframe: this.timeframe } : {}),
        });
        out.push(ctx.orders.submit(order, last));
      }
    }
    return out;
  }
}
