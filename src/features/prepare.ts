/** Turns 1-minute bars into the per-timeframe inputs a feature set needs (session-aware aggregation). */
import { aggregateColumns, type AggregateOptions } from '../market/aggregate';
import { calendarFor } from '../market/calendar';
import type { BarColumns } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import type { TimeframeBars } from './compute';
import type { BarsByTimeframe } from './matrix';

function toTimeframeBars(c: BarColumns, tf: Timeframe): TimeframeBars {
  return {
    timeframe: tf,
    ts: c.ts,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
  };
}

/**
 * Aggregates 1m columns into every timeframe in `timeframes` with src/market's session-aware
 * aggregation (NYSE regular session for equities, 24/7 for crypto). The 1m input is used as given.
 */
export function barsFromMinutes(
  minutes: BarColumns,
  timeframes: readonly Timeframe[],
  opts: AggregateOptions = {},
): BarsByTimeframe {
  const out: BarsByTimeframe = {};
  const agg: AggregateOptions = { calendar: calendarFor(minutes.symbol), ...opts };
  for (const tf of timeframes)
    out[tf] =
      tf === '1m' ? toTimeframeBars(minutes, '1m') : toTimeframeBars(aggregateColumns(minutes, tf, agg), tf);
  return out;
}
