import type { Pool } from 'pg';
import type { Bar } from '../../model/bar';
import { TIMEFRAME_MS, type Timeframe } from '../../model/timeframe';
import type { Exchange } from './exchange';

/**
 * Replays stored bars into the exchange, in (ts, symbol) order. Two ways to drive it:
 * - stepped: `advanceTo(ts)` (idempotent, monotonic) — the replay-mode session advances it per bar, so a
 *   replayed day is deterministic whatever the wall clock does;
 * - auto: `start(speed)` advances one bar interval every barMs / speed of wall time (paper on the simulator).
 * Only bars that have closed by the replay clock are visible through the data API (no look-ahead).
 */
export class BarReplay {
  private readonly bars: Bar[];
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly barListeners = new Set<(bar: Bar) => void>();
  readonly barMs: number;
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
    this.barMs = TIMEFRAME_MS[timeframe];
  }

  get symbols(): string[] {
    return [...new Set(this.bars.map((b) => b.symbol))].sort();
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

  /** Processes every bar with ts <= until. Returns how many bars were processed now. */
  advanceTo(until: number): number {
    let n = 0;
    while (this.cursor < this.bars.length && this.bars[this.cursor]!.ts <= until) {
      const bar = this.bars[this.cursor++]!;
      this.exchange.onBar(bar);
      this.watermark = bar.ts;
      n++;
      for (const l of this.barListeners) l(bar);
    }
    if (until > this.watermark && until !== Infinity)
      this.exchange.now = Math.max(this.exchange.now, until + this.barMs);
    return n;
  }

  /** History visible now: closed bars of `symbol` in [start, end]. */
  history(symbol: string, start = -Infinity, end = Infinity): Bar[] {
    const out: Bar[] = [];
    for (let i = 0; i < this.cursor; i++) {
      const b = this.bars[i]!;
      if (b.symbol === symbol && b.ts >= start && b.ts <= end) out.push(b);
    }
    return out;
  }

  latest(symbol: string): Bar | undefined {
    for (let i = this.cursor - 1; i >= 0; i--) if (this.bars[i]!.symbol === symbol) return this.bars[i];
    return undefined;
  }

  start(speed: number): void {
    this.stop();
    const times = this.barTimes();
    let i = times.findIndex((t) => t > this.watermark);
    if (i < 0) return;
    this.timer = setInterval(
      () => {
        if (i >= times.length) return this.stop();
        this.advanceTo(times[i++]!);
      },
      Math.max(1, this.barMs / speed),
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get done(): boolean {
    return this.cursor >= this.bars.length;
  }
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
