/**
 * SMA trend: long when the fast simple moving average of closes is above the slow one, short when below,
 * `weight` of equity per symbol; equal averages hold what is held. Deterministic and cheap, it trades on most
 * bars, so replay, chaos and parity runs exercise the execution path with real order flow. A long↔short flip
 * is two orders (close, then open): Alpaca refuses a sell larger than the long position. Intraday timeframes:
 * flat from `flattenBeforeCloseMs` before the session close; on daily bars it decides at the close and holds.
 */
import type { Command } from '../model/command';
import type { Timeframe } from '../model/timeframe';
import { SMA } from '../indicators';
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
  private readonly indicators = new Map<string, { fast: SMA; slow: SMA }>();
  /** intraday timeframes are flat before the close; a daily strategy decides at the close and holds */
  private readonly intraday: boolean;

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
    // LEAN-style: the largest warm-up of the indicators it reads
    this.warmUpBars = new SMA(p.slow).warmUpPeriod;
    this.timeframes = [timeframe];
    this.intraday = timeframe !== '1d';
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
      const bar = bars.last(symbol, this.timeframe)!;
      const ind = this.indicatorsOf(symbol);
      ind.fast.update(bar);
      ind.slow.update(bar);
      if (ctx.portfolio.openOrders(symbol).length > 0) continue;
      const close = this.intraday ? ctx.sessionClose(symbol, ctx.now - 1) : undefined;
      if (close !== undefined && ctx.now >= close - flattenMs) {
        if (ctx.portfolio.position(symbol)) out.push(ctx.orders.flatten(symbol, 'before the close'));
        continue;
      }
      if (!ind.slow.isReady) continue;
      const last = bar.close;
      const fast = ind.fast.value;
      const slow = ind.slow.value;
      const current = ctx.portfolio.position(symbol)?.qty ?? 0;
      const size = ctx.roundQty(symbol, (this.p.weight * ctx.portfolio.equity) / last);
      const target = fast > slow ? size : fast < slow ? -size : current;
      if (target === current) continue;
      const legs =
        current !== 0 && target !== 0 && Math.sign(current) !== Math.sign(target)
          ? [-current, target]
          : [target - current];
      for (const leg of legs) {
        // a difference of two lot-sized quantities is a lot-sized quantity, up to binary noise
        const qty = ctx.roundQty(symbol, Math.abs(leg));
        if (qty <= 0) continue;
        const order = ctx.orders.market(symbol, leg > 0 ? 'buy' : 'sell', qty, {
          intent: Math.abs(current + leg) < Math.abs(current) ? 'exit' : 'entry',
          reason: `sma ${this.p.fast}/${this.p.slow} target ${target}`,
        });
        out.push(ctx.orders.submit(order, last));
      }
    }
    return out;
  }

  private indicatorsOf(symbol: string): { fast: SMA; slow: SMA } {
    let ind = this.indicators.get(symbol);
    if (!ind) this.indicators.set(symbol, (ind = { fast: new SMA(this.p.fast), slow: new SMA(this.p.slow) }));
    return ind;
  }
}
