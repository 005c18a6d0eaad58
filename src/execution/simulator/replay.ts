import type { Pool } from 'pg';
import type { Bar, Quote } from '../../model/bar';
import { TIMEFRAME_MS, type Timeframe } from '../../model/timeframe';
import type { Exchange } from './exchange';
import { SimClock } from './sim-clock';
import { TickStore, type TradePrint } from '../../data/tick-store';

/**
 * Replays stored bars into the exchange, in (ts, symbol) order, on the simulator's clock (SimClock). Two ways
 * to drive it:
 * - stepped: `advanceTo(ts)` (idempotent, monotonic) — the replay-mode session advances it per bar, so a
 *   replayed day is deterministic whatever the wall clock does;
 * - clocked: `start(speed)` runs the clock at `speed` × wall time; the bar of minute m is published (to the
 *   matching engine, then to listeners such as the market-data stream) when the clock passes m + 1 minute.
 *   Requests call `sync()` first, so what a client sees never lags the clock, whatever the timer does.
 * Only bars that have closed by the replay clock are visible through the data API (no look-ahead). The
 * matching engine's `now` moves in bar steps (the start of the bar now forming), so an order sent while
 * minute m+1 forms fills on bar m+1 at the earliest, as in the backtester.
 */
export class BarReplay {
  private readonly bars: Bar[];
  private readonly bySymbol = new Map<string, Bar[]>();
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly barListeners = new Set<(bar: Bar) => void>();
  private readonly tickListeners = new Set<(now: number) => void>();
  /** Wall ms between clock ticks when a listener needs more than one per bar (quotes, trades). */
  private fineTickMs: number | undefined;
  readonly barMs: number;
  readonly clock: SimClock;
  /** ts of the last bar processed; bars with ts <= watermark are history. */
  watermark = -Infinity;

  constructor(
    private readonly exchange: Exchange,
    bars: readonly Bar[],
    readonly timeframe: Timeframe = '1m',
  ) {
    this.bars = [...bars].sort(
      (a, b) => a.ts - b.ts || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0),
    );
    for (const b of this.bars) {
      let list = this.bySymbol.get(b.symbol);
      if (!list) this.bySymbol.set(b.symbol, (list = []));
      list.push(b);
    }
    this.barMs = TIMEFRAME_MS[timeframe];
    this.clock = new SimClock(exchange.now);
  }

  get symbols(): string[] {
    return [...this.bySymbol.keys()].sort();
  }

  get firstTs(): number | undefined {
    return this.bars[0]?.ts;
  }

  get lastTs(): number | undefined {
    return this.bars[this.bars.length - 1]?.ts;
  }

  /** Distinct bar timestamps of the day, ascending: the session's cycle schedule. */
  barTimes(): number[] {
    return [...new Set(this.bars.map((b) => b.ts))];
  }

  onBar(listener: (bar: Bar) => void): () => void {
    this.barListeners.add(listener);
    return () => this.barListeners.delete(listener);
  }

  /**
   * Called with the clock's reading after every sync (clocked) or advance (stepped). `fineTickMs` asks for a
   * tick at least that often in wall ms while the clock runs (a quote stream), not only at bar closes.
   */
  onTick(listener: (now: number) => void, fineTickMs?: number): () => void {
    this.tickListeners.add(listener);
    if (fineTickMs !== undefined)
      this.fineTickMs = Math.max(1, Math.min(this.fineTickMs ?? Infinity, fineTickMs));
    return () => this.tickListeners.delete(listener);
  }

  /** The venue's time now (simulated epoch ms). */
  now(): number {
    return this.clock.now();
  }

  /** Processes every bar with ts <= until. Returns how many bars were processed now. */
  advanceTo(until: number): number {
    const n = this.publishThrough(until);
    this.clock.advanceTo(this.exchange.now);
    this.emitTick(this.clock.now());
    return n;
  }

  private publishThrough(until: number): number {
    let n = 0;
    while (this.cursor < this.bars.length && this.bars[this.cursor]!.ts <= until) {
      const bar = this.bars[this.cursor++]!;
      this.exchange.onBar(bar);
      this.watermark = bar.ts;
      n++;
      for (const l of this.barListeners) l(bar);
    }
    // the venue's time is the close of the newest bar played (or of the empty minute `until`): orders arriving
    // now are stamped then, so a day order placed after midnight (crypto) or after the open expires at the right close
    if (until !== Infinity) this.exchange.now = Math.max(this.exchange.now, until + this.barMs);
    return n;
  }

  /**
   * Catches the replay up with the running clock: every bar closed by now is published and the matching
   * engine's clock moves to the start of the bar now forming. A no-op while the clock is paused.
   */
  sync(): void {
    if (!this.clock.running) return;
    const now = this.clock.now();
    const forming = Math.floor(now / this.barMs) * this.barMs;
    this.publishThrough(forming - this.barMs);
    this.emitTick(now);
  }

  private emitTick(now: number): void {
    for (const l of this.tickListeners) l(now);
  }

  /** History visible now: closed bars of `symbol` in [start, end]. */
  history(symbol: string, start = -Infinity, end = Infinity): Bar[] {
    const list = this.bySymbol.get(symbol);
    if (!list) return [];
    const hi = Math.min(end, this.watermark);
    const out: Bar[] = [];
    for (let i = lowerBound(list, start); i < list.length && list[i]!.ts <= hi; i++) out.push(list[i]!);
    return out;
  }

  latest(symbol: string): Bar | undefined {
    const list = this.bySymbol.get(symbol);
    if (!list) return undefined;
    const i = lowerBound(list, this.watermark + 1) - 1;
    return i >= 0 ? list[i] : undefined;
  }

  /** Runs the clock at `speed` × wall time (60 = one bar a second) and publishes bars as it passes their close. */
  start(speed: number): void {
    this.clock.start(speed);
    this.schedule();
  }

  /** Pauses the clock (and the publishing); `advanceTo` still steps it. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.clock.running) this.clock.pause();
  }

  get running(): boolean {
    return this.clock.running;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.clock.running) return;
    const now = this.clock.now();
    const nextClose = (Math.floor(now / this.barMs) + 1) * this.barMs;
    const wallNow = Date.now();
    let delay = (this.clock.wallAt(nextClose) ?? wallNow) - wallNow;
    if (this.fineTickMs !== undefined) delay = Math.min(delay, this.fineTickMs);
    this.timer = setTimeout(
      () => {
        this.sync();
        this.schedule();
      },
      Math.max(1, Math.ceil(delay)),
    );
    this.timer.unref();
  }

  get done(): boolean {
    return this.cursor >= this.bars.length;
  }
}

function lowerBound(list: readonly { ts: number }[], ts: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Loads one day's bars of a timeframe from the `bars` table (the store the ingest writes). */
export async function loadBarsFromStore(
  pool: Pool,
  opts: { symbols: readonly string[]; timeframe: Timeframe; from: number; to: number },
): Promise<Bar[]> {
  const { rows } = await pool.query<{
    symbol: string;
    ts: Date;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    vwap: number | null;
    trade_count: number | null;
  }>(
    `select symbol, ts, open, high, low, close, volume, vwap, trade_count from bars
      where symbol = any($1) and timeframe = $2 and ts >= $3 and ts < $4 order by ts, symbol`,
    [opts.symbols, opts.timeframe, new Date(opts.from), new Date(opts.to)],
  );
  return rows.map((r) => ({
    symbol: r.symbol,
    timeframe: opts.timeframe,
    ts: r.ts.getTime(),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    vwap: r.vwap ?? undefined,
    tradeCount: r.trade_count ?? undefined,
  }));
}

/** Quotes of the day's symbols in [from, to) from the `quotes` table (a simulator publishes them on its clock). */
export async function loadQuotesFromStore(
  pool: Pool,
  opts: { symbols: readonly string[]; from: number; to: number },
): Promise<Quote[]> {
  const store = new TickStore(pool);
  const out: Quote[] = [];
  for (const s of opts.symbols) out.push(...(await store.readQuotes(s, opts.from, opts.to)));
  return out;
}

/** Trades of the day's symbols in [from, to) from the `trades` table. */
export async function loadTradesFromStore(
  pool: Pool,
  opts: { symbols: readonly string[]; from: number; to: number },
): Promise<TradePrint[]> {
  const store = new TickStore(pool);
  const out: TradePrint[] = [];
  for (const s of opts.symbols) out.push(...(await store.readTrades(s, opts.from, opts.to)));
  return out;
}

/** Symbols with bars of `timeframe` stored in [from, to) (a simulator started without --symbols plays them all). */
export async function storedSymbols(
  pool: Pool,
  opts: { timeframe: Timeframe; from: number; to: number },
): Promise<string[]> {
  const { rows } = await pool.query<{ symbol: string }>(
    `select distinct symbol from bars where timeframe = $1 and ts >= $2 and ts < $3 order by symbol`,
    [opts.timeframe, new Date(opts.from), new Date(opts.to)],
  );
  return rows.map((r) => r.symbol);
}
