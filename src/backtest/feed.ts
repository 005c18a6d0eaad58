/**
 * The clock-guarded bar feed: the only window a strategy has onto the data. It holds the full columns but
 * exposes bars up to each series' cursor (the newest bar that has closed by the clock); asking for a bar
 * that closes after the clock throws LookAheadError, which stops the backtest.
 */
import type { Bar, BarColumns } from '../model/bar';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import { LookAheadError, type BarFeed } from '../strategy/types';

export interface FeedSeries {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly tfMs: number;
  readonly cols: BarColumns;
  /** index of the newest completed bar, -1 before the first */
  cursor: number;
}

export class ClockedBarFeed implements BarFeed {
  now = 0;
  readonly updated: Array<{ symbol: string; timeframe: Timeframe }> = [];
  private readonly index = new Map<string, FeedSeries>();
  private readonly symbolList: string[];
  private readonly tfBySymbol = new Map<string, Timeframe[]>();

  constructor(readonly series: readonly FeedSeries[]) {
    for (const s of series) {
      const k = `${s.symbol}|${s.timeframe}`;
      if (this.index.has(k)) throw new RangeError(`series: ${s.symbol} ${s.timeframe} is given twice`);
      this.index.set(k, s);
      const tfs = this.tfBySymbol.get(s.symbol) ?? [];
      tfs.push(s.timeframe);
      this.tfBySymbol.set(s.symbol, tfs);
    }
    this.symbolList = [...this.tfBySymbol.keys()];
  }

  symbols(): readonly string[] {
    return this.symbolList;
  }

  timeframes(symbol: string): readonly Timeframe[] {
    return this.tfBySymbol.get(symbol) ?? [];
  }

  private get_(symbol: string, tf: Timeframe): FeedSeries | undefined {
    return this.index.get(`${symbol}|${tf}`);
  }

  count(symbol: string, tf: Timeframe): number {
    const s = this.get_(symbol, tf);
    return s ? s.cursor + 1 : 0;
  }

  last(symbol: string, tf: Timeframe): Bar | undefined {
    const s = this.get_(symbol, tf);
    if (!s || s.cursor < 0) return undefined;
    return barOf(s, s.cursor);
  }

  history(symbol: string, tf: Timeframe, n: number): Bar[] {
    const s = this.get_(symbol, tf);
    if (!s || s.cursor < 0) return [];
    const from = Math.max(0, s.cursor - n + 1);
    const out: Bar[] = [];
    for (let i = from; i <= s.cursor; i++) out.push(barOf(s, i));
    return out;
  }

  barAt(symbol: string, tf: Timeframe, ts: number): Bar | undefined {
    const tfMs = TIMEFRAME_MS[tf];
    if (ts + tfMs > this.now) throw new LookAheadError(symbol, tf, ts, this.now);
    const s = this.get_(symbol, tf);
    if (!s) return undefined;
    // binary search among completed bars only
    let lo = 0;
    let hi = s.cursor;
    const t = s.cols.ts;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = t[mid]!;
      if (v === ts) return barOf(s, mid);
      if (v < ts) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

function barOf(s: FeedSeries, i: number): Bar {
  const c = s.cols;
  return {
    symbol: s.symbol,
    timeframe: s.timeframe,
    ts: c.ts[i]!,
    open: c.open[i]!,
    high: c.high[i]!,
    low: c.low[i]!,
    close: c.close[i]!,
    volume: c.volume[i]!,
  };
}
