import type { Timeframe } from './timeframe';

/** One OHLCV bar. `ts` is epoch milliseconds UTC of the bar's start. */
export interface Bar {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly vwap?: number;
  readonly tradeCount?: number;
}

/** A top-of-book quote, valid from `ts`. */
export interface Quote {
  readonly symbol: string;
  readonly ts: number;
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
}

export interface Trade {
  readonly symbol: string;
  readonly ts: number;
  readonly price: number;
  readonly size: number;
}

/** Columnar bars for the numeric code: one typed array per field, same length, ts ascending. */
export interface BarColumns {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Zero-filled columns for `n` bars, to be written in place. */
export function allocBarColumns(symbol: string, timeframe: Timeframe, n: number): BarColumns {
  return {
    symbol,
    timeframe,
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
}

export function barsToColumns(symbol: string, timeframe: Timeframe, bars: readonly Bar[]): BarColumns {
  const n = bars.length;
  const cols = allocBarColumns(symbol, timeframe, n);
  for (let i = 0; i < n; i++) {
    const b = bars[i]!;
    cols.ts[i] = b.ts;
    cols.open[i] = b.open;
    cols.high[i] = b.high;
    cols.low[i] = b.low;
    cols.close[i] = b.close;
    cols.volume[i] = b.volume;
  }
  return cols;
}

export function columnsToBars(cols: BarColumns): Bar[] {
  const out: Bar[] = new Array(cols.ts.length);
  for (let i = 0; i < cols.ts.length; i++) {
    out[i] = {
      symbol: cols.symbol,
      timeframe: cols.timeframe,
      ts: cols.ts[i]!,
      open: cols.open[i]!,
      high: cols.high[i]!,
      low: cols.low[i]!,
      close: cols.close[i]!,
      volume: cols.volume[i]!,
    };
  }
  return out;
}
