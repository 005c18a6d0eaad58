/**
 * Buy and hold: at its first daily close (after the kernel's `tradeFrom`) each symbol is bought for
 * `weight` of equity (rounded to the instrument's lot), then held to the end. The passive baselines of a
 * model backtest's scoreboard — the universe equal-weighted, or one benchmark symbol — are this strategy traded
 * through the same kernel, fills and costs as the strategy they are compared with.
 */
import type { Command } from '../model/command';
import type { Timeframe } from '../model/timeframe';
import { STRATEGY_API_VERSION, type BarFeed, type Strategy, type StrategyContext } from './types';

export interface BuyAndHoldParams {
  /** position value per symbol at purchase, as a fraction of equity (e.g. 0.99 / number of symbols) */
  readonly weight: number;
}

export class BuyAndHoldStrategy implements Strategy {
  readonly name = 'buy-and-hold';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars = 1;
  readonly timeframes: readonly Timeframe[] = ['1d'];
  private readonly bought = new Set<string>();

  constructor(readonly p: BuyAndHoldParams) {
    if (!(p.weight > 0 && p.weight <= 1))
      throw new RangeError(`strategy.weight: ${p.weight} must be a fraction in (0, 1]`);
  }

  get params(): Record<string, number> {
    return { weight: this.p.weight };
  }

  onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    const out: Command[] = [];
    const symbols = bars.updated
      .filter((u) => u.timeframe === '1d')
      .map((u) => u.symbol)
      .sort();
    for (const symbol of symbols) {
      if (ctx.portfolio.position(symbol)) this.bought.add(symbol);
      if (this.bought.has(symbol) || ctx.portfolio.openOrders(symbol).length > 0) continue;
      const last = bars.last(symbol, '1d')!.close;
      const qty = ctx.roundQty(symbol, (this.p.weight * ctx.portfolio.equity) / last);
      if (qty <= 0) continue;
      const order = ctx.orders.market(symbol, 'buy', qty, { intent: 'entry', reason: 'buy and hold' });
      out.push(ctx.orders.submit(order, last));
    }
    return out;
  }
}
