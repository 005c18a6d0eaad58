/**
 * SMA trend: long when the fast simple moving average of closes is above the slow one, short when below,
 * `weight` of equity per symbol; equal averages hold what is held. Deterministic and cheap, it trades on most
 * bars, so replay, chaos and parity runs exercise the execution path with real order flow. A long↔short flip
 * is two orders (close, then open): Alpaca refuses a sell larger than the long position. Intraday: flat from
 * `flattenBeforeCloseMs` before the session close.
 */
import type { Command } from '../model/command';
import type { Timeframe } from '../model/timeframe';
import { STRATEGY_API_VERSION, type BarFeed, type Strategy, type StrategyContext } from './types';

export interface SmaTrendParams {
  readonly fast: number;
  readonly slow: number;
  /** target position value per symbol as a fraction of equity */
  readonly weight: number;
  /** intraday: positions are closed this long before the session close (default 5 minutes) */
  readonly flattenBeforeCloseMs?: number;
}

export class SmaTrendStrategy implements Strategy {
  readonly name = 'sma-trend';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars: number;
  readonly timeframes: readonly Timeframe[];

  constructor(
    readonly p: SmaTrendParams,
    readonly timeframe: Timeframe = '1m',
  ) {
    if (!(Number.isInteger(p.fast) && p.fast >= 1))
      throw new RangeError(`strategy.fast: ${p.fast} must be a positive integer`);
    if (!(Number.isInteger(p.slow) && p.slow > p.fast))
      throw new RangeError(`strategy.slow: ${p.slow} must be an integer above fast (${p.fast})`);
    if (!(p.weight > 0 && p.weight <= 1))
      throw new RangeError(`strategy.weight: ${p.weight} must be a fraction in (0, 1]`);
    this.warmUpBars = p.slow;
    this.timeframes = [timeframe];
  }

  get params(): Record<string, number> {
    return { fast: this.p.fast, slow: this.p.slow, weight: this.p.weight };
  }

  onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    const out: Command[] = [];
    const updated = bars.updated
      .filter((u) => u.timeframe === this.timeframe)
      .map((u) => u.symbol)
      .sort();
    const flattenMs = this.p.flattenBeforeCloseMs ?? 5 * 60_000;
    for (const symbol of updated) {
      if (ctx.portfolio.openOrders(symbol).length > 0) continue;
      const close = ctx.sessionClose(symbol, ctx.now - 1);
      if (close !== undefined && ctx.now >= close - flattenMs) {
        if (ctx.portfolio.position(symbol)) out.push(ctx.orders.flatten(symbol, 'before the close'));
        continue;
      }
      const history = bars.history(symbol, this.timeframe, this.p.slow);
      if (history.length < this.p.slow) continue;
      const last = history[history.length - 1]!.close;
      const fast = mean(history, this.p.fast);
      const slow = mean(history, this.p.slow);
      const current = ctx.portfolio.position(symbol)?.qty ?? 0;
      const size = Math.floor((this.p.weight * ctx.portfolio.equity) / last);
      const target = fast > slow ? size : fast < slow ? -size : current;
      if (target === current) continue;
      const legs =
        current !== 0 && target !== 0 && Math.sign(current) !== Math.sign(target)
          ? [-current, target]
          : [target - current];
      for (const leg of legs) {
        const order = ctx.orders.market(symbol, leg > 0 ? 'buy' : 'sell', Math.abs(leg), {
          intent: Math.abs(current + leg) < Math.abs(current) ? 'exit' : 'entry',
          reason: `sma ${this.p.fast}/${this.p.slow} target ${target}`,
        });
        out.push(ctx.orders.submit(order, last));
      }
    }
    return out;
  }
}

function mean(bars: readonly { close: number }[], n: number): number {
  let s = 0;
  for (let i = bars.length - n; i < bars.length; i++) s += bars[i]!.close;
  return s / n;
}
