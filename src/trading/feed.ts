/**
 * The clock-guarded bar feed: the only window a strategy has onto the data. It exposes each series up to its
 * cursor (the newest bar closed by the clock); asking for a bar that closes after the clock throws
 * LookAheadError, which stops a backtest and fails a session's decision.
 */
import type { Bar } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import { LookAheadError, type BarFeed } from '../strategy/types';
import { closeOf, type BarSeries } from './series';

export class ClockedBarFeed implements BarFeed {
  now = 0;
  readonly updated: Array<{ symbol: string; timeframe: Timeframe }> = [];
  private readonly index = new Map<string, BarSeries>();
  private readonly symbolList: string[];
  private readonly tfBySymbol = new Map<string, Timeframe[]>();

  constructor(series: readonly BarSeries[]) {
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

  /** The series behind (symbol, timeframe), for kernel parts that read columns directly (features). */
  series(symbol: string, tf: Timeframe): BarSeries | undefined {
    return this.index.get(`${symbol}|${tf}`);
  }

  count(symbol: string, tf: Timeframe): number {
    const s = this.series(symbol, tf);
    return s ? s.cursor + 1 : 0;
  }

  last(symbol: string, tf: Timeframe): Bar | undefined {
    const s = this.series(symbol, tf);
    if (!s || s.cursor < 0) return undefined;
    return s.bar(s.cursor);
  }

  history(symbol: string, tf: Timeframe, n: number): Bar[] {
    const s = this.series(symbol, tf);
    if (!s || s.cursor < 0) return [];
    const from = Math.max(0, s.cursor - n + 1);
    const out: Bar[] = [];
    for (let i = from; i <= s.cursor; i++) out.push(s.bar(i));
    return out;
  }

  barAt(symbol: string, tf: Timeframe, ts: number): Bar | undefined {
    const s = this.series(symbol, tf);
    if (!s) return undefined;
    // binary search among all known bars, then refuse one that has not closed by the clock
    let lo = 0;
    let hi = s.n - 1;
    const t = s.ts;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = t[mid]!;
      if (v === ts) {
        if (mid > s.cursor || s.closeAt(mid) > this.now) throw new LookAheadError(symbol, tf, ts, this.now);
        return s.bar(mid);
      }
      if (v < ts) lo = mid + 1;
      else hi = mid - 1;
    }
    // not stored: a bar that would close after the clock is still look-ahead to ask for
    if (closeOf(ts, tf, s.calendar) > this.now) throw new LookAheadError(symbol, tf, ts, this.now);
    return undefined;
  }
}
