/**
 * Runs a Strategy for a trading session exactly as the backtester runs it: the same clock-guarded bar feed,
 * the same context (portfolio view, deterministic order factory, shared sizing rule, exchange calendar,
 * seeded PRNG), the same warm-up gate and the same volatility tracker. The session's decide activity owns
 * one host per session and steps it once per bar; the host is pure (no I/O), so a lost host is rebuilt by
 * stepping a fresh one through the journaled inputs of the bars before (see activities/session.activities).
 */
import type { Bar, BarColumns } from '../model/bar';
import type { Command } from '../model/command';
import { mulberry32 } from '../model/random';
import { TIMEFRAME_MS } from '../model/timeframe';
import { ClockedBarFeed, type FeedSeries } from '../backtest/feed';
import { VolatilityTracker } from '../risk/volatility';
import { sizePosition, type SizingConfig } from '../risk/sizing';
import { isWarmedUp, strategyCalendar } from '../strategy/calendar-context';
import { DeterministicOrderFactory } from '../strategy/order-factory';
import {
  assertStrategyCompatible,
  type PortfolioView,
  type PositionView,
  type Strategy,
  type StrategyContext,
} from '../strategy/types';

/** The portfolio a strategy sees at one bar: plain JSON, journaled so the host can be rebuilt. */
export interface HostPortfolio {
  readonly equity: number;
  readonly cash: number;
  readonly buyingPower: number;
  readonly peakEquity: number;
  readonly positions: readonly PositionView[];
  readonly openOrders: ReadonlyArray<{ readonly symbol: string; readonly clientOrderId: string }>;
}

export interface HostOutput {
  /** the strategy's commands, submits of symbols still warming up dropped (as the backtester does) */
  readonly commands: Command[];
  /** the volatility-spike ratio after this bar (the REDUCING breaker's input) */
  readonly volatilityRatio: number;
  /** per symbol, the close time of its newest bar (the stale-data rule's input) */
  readonly lastDataTs: Record<string, number>;
}

interface Column {
  n: number;
  cursor: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

const TF = '1m' as const;
const BAR_MS = TIMEFRAME_MS[TF];

export class StrategyHost {
  /** close time of the last bar stepped, null before the first */
  lastCloseTs: number | null = null;
  private readonly cols: Column[];
  private readonly vol: VolatilityTracker;
  private readonly factory: DeterministicOrderFactory;
  private readonly rng: () => number;
  private readonly calendar = strategyCalendar();

  constructor(
    private readonly strategy: Strategy,
    private readonly opts: {
      readonly session: string;
      readonly symbols: readonly string[];
      readonly seed: number;
      readonly sizing: SizingConfig;
    },
  ) {
    assertStrategyCompatible(strategy);
    if (!strategy.timeframes.includes(TF) || strategy.timeframes.some((t) => t !== TF))
      throw new RangeError(
        `strategy.timeframes: [${strategy.timeframes.join(', ')}]; a trading session runs 1m strategies`,
      );
    this.cols = opts.symbols.map(() => column(512));
    this.vol = new VolatilityTracker(opts.symbols.length);
    this.factory = new DeterministicOrderFactory(opts.session);
    this.rng = mulberry32(opts.seed);
  }

  /** Newest appended bar start time over all symbols (bars are loaded incrementally up to here). */
  get loadedUntil(): number | null {
    let m: number | null = null;
    for (const c of this.cols) if (c.n > 0 && (m === null || c.ts[c.n - 1]! > m)) m = c.ts[c.n - 1]!;
    return m;
  }

  /** Adds closed 1m bars (any symbol order, ascending ts per symbol); bars already held are ignored. */
  append(bars: Iterable<Bar>): void {
    const index = new Map(this.opts.symbols.map((s, i) => [s, i]));
    for (const b of bars) {
      const i = index.get(b.symbol);
      if (i === undefined) continue;
      let c = this.cols[i]!;
      if (c.n > 0 && b.ts <= c.ts[c.n - 1]!) continue;
      if (c.n === c.ts.length) c = this.cols[i] = grow(c);
      c.ts[c.n] = b.ts;
      c.open[c.n] = b.open;
      c.high[c.n] = b.high;
      c.low[c.n] = b.low;
      c.close[c.n] = b.close;
      c.volume[c.n] = b.volume;
      c.n++;
    }
  }

  /** Mean volume of the symbol's last `bars` stepped bars (bars seen so far when fewer); undefined before any. */
  avgVolume(symbol: string, bars: number): number | undefined {
    const c = this.cols[this.opts.symbols.indexOf(symbol)];
    if (!c || c.cursor < 0) return undefined;
    const from = Math.max(0, c.cursor - bars + 1);
    let sum = 0;
    for (let k = from; k <= c.cursor; k++) sum += c.volume[k]!;
    return sum / (c.cursor - from + 1);
  }

  /** The close of the symbol's newest stepped bar. */
  lastClose(symbol: string): number | undefined {
    const c = this.cols[this.opts.symbols.indexOf(symbol)];
    return c && c.cursor >= 0 ? c.close[c.cursor] : undefined;
  }

  /**
   * One decision at `closeTs` (a bar close), with the portfolio as the broker reports it then and the sizing
   * rule in force (an operator may change the position limit during the day).
   */
  step(closeTs: number, portfolio: HostPortfolio, sizing: SizingConfig = this.opts.sizing): HostOutput {
    if (this.lastCloseTs !== null && closeTs <= this.lastCloseTs)
      throw new RangeError(`closeTs: ${closeTs} is not after the last step (${this.lastCloseTs})`);
    const series: FeedSeries[] = [];
    const updated: Array<{ symbol: string; timeframe: typeof TF }> = [];
    const lastDataTs: Record<string, number> = {};
    this.opts.symbols.forEach((symbol, i) => {
      const c = this.cols[i]!;
      while (c.cursor + 1 < c.n && c.ts[c.cursor + 1]! + BAR_MS <= closeTs) {
        c.cursor++;
        if (c.cursor > 0) this.vol.update(i, c.close[c.cursor - 1]!, c.close[c.cursor]!);
        if (c.ts[c.cursor]! + BAR_MS === closeTs) updated.push({ symbol, timeframe: TF });
      }
      if (c.cursor >= 0) lastDataTs[symbol] = c.ts[c.cursor]! + BAR_MS;
      series.push({ symbol, timeframe: TF, tfMs: BAR_MS, cols: view(symbol, c), cursor: c.cursor });
    });
    const feed = new ClockedBarFeed(series);
    feed.now = closeTs;
    feed.updated.push(...updated);
    this.factory.setBar(closeTs);
    const ctx: StrategyContext = {
      now: closeTs,
      portfolio: portfolioView(portfolio),
      orders: this.factory,
      size: (input) => sizePosition({ ...input, equity: portfolio.equity }, sizing),
      ...this.calendar,
      random: this.rng,
    };
    const commands = this.strategy
      .onBar(ctx, feed)
      .filter((c) => c.kind !== 'submit' || isWarmedUp(feed, c.order.symbol, this.strategy.warmUpBars));
    this.lastCloseTs = closeTs;
    return { commands, volatilityRatio: this.vol.ratio(), lastDataTs };
  }
}

function portfolioView(p: HostPortfolio): PortfolioView {
  const bySymbol = new Map(p.positions.map((x) => [x.symbol, x]));
  return {
    equity: p.equity,
    cash: p.cash,
    buyingPower: p.buyingPower,
    peakEquity: p.peakEquity,
    position: (symbol) => bySymbol.get(symbol),
    positions: () => p.positions,
    openOrders: (symbol) => p.openOrders.filter((o) => o.symbol === symbol).map((o) => o.clientOrderId),
  };
}

function column(cap: number): Column {
  return {
    n: 0,
    cursor: -1,
    ts: new Float64Array(cap),
    open: new Float64Array(cap),
    high: new Float64Array(cap),
    low: new Float64Array(cap),
    close: new Float64Array(cap),
    volume: new Float64Array(cap),
  };
}

function grow(c: Column): Column {
  const g = column(c.ts.length * 2);
  g.n = c.n;
  g.cursor = c.cursor;
  for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) g[k].set(c[k]);
  return g;
}

function view(symbol: string, c: Column): BarColumns {
  return {
    symbol,
    timeframe: TF,
    ts: c.ts.subarray(0, c.n),
    open: c.open.subarray(0, c.n),
    high: c.high.subarray(0, c.n),
    low: c.low.subarray(0, c.n),
    close: c.close.subarray(0, c.n),
    volume: c.volume.subarray(0, c.n),
  };
}
