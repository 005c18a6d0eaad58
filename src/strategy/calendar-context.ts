/**
 * The calendar half of a StrategyContext (session close, market open), shared by the backtester and the
 * session's strategy host so a strategy sees the same exchange hours everywhere.
 */
import { calendarFor } from '../market/calendar';
import type { StrategyContext } from './types';

export function strategyCalendar(): Pick<StrategyContext, 'sessionClose' | 'isMarketOpen'> {
  let cache: { cal: string; open: number; close: number } | undefined;
  const sessionClose = (symbol: string, ts: number): number | undefined => {
    const cal = calendarFor(symbol);
    if (cache && cache.cal === cal.name && ts >= cache.open && ts < cache.close) return cache.close;
    if (cal.name === 'CRYPTO') return undefined;
    const s = cal.sessionFor(ts);
    if (!s) return undefined;
    cache = { cal: cal.name, open: s.openMs, close: s.closeMs };
    return ts >= s.openMs && ts < s.closeMs ? s.closeMs : undefined;
  };
  return {
    sessionClose,
    isMarketOpen: (symbol, ts) =>
      calendarFor(symbol).name === 'CRYPTO' || sessionClose(symbol, ts) !== undefined,
  };
}
