/**
 * How much history a strategy needs before a session's first decision: enough sessions of bars that each of its
 * timeframes holds `warmUpBars` completed bars at the open (LEAN's SetWarmUp). A session loads that history and
 * steps the kernel through it without trading, exactly as a backtest warms up on its trade-from window, so the
 * strategy's indicators at the open are the same in both.
 */
import { addDays, calendarFor, nyWallToUtc } from '../market/calendar';
import type { Timeframe } from '../model/timeframe';
import type { Strategy } from '../strategy/types';

/** Bars of each timeframe in one session: NYSE's regular 6.5 hours, or 24 hours for crypto. */
const PER_SESSION: Readonly<Record<'NYSE' | 'CRYPTO', Readonly<Record<Timeframe, number>>>> = {
  NYSE: { '1m': 390, '5m': 78, '15m': 26, '1h': 7, '1d': 1 },
  CRYPTO: { '1m': 1440, '5m': 288, '15m': 96, '1h': 24, '1d': 1 },
};

/** At most this many sessions of history are loaded (a daily strategy with a year-long lookback gets a year). */
const MAX_SESSIONS = 260;

/**
 * The instant from which a session loads history to warm `strategy` up before its first decision at `firstAt`:
 * `warmUpBars` of each timeframe before the day that decision falls in (the day's own earlier bars come on top).
 */
export function warmUpFrom(
  strategy: Strategy,
  firstAt: number,
  symbols: readonly string[],
  /** sessions something else needs besides the strategy (a model's features: PredictionPort.warmUpSessions) */
  minSessions = 0,
): number {
  if (strategy.warmUpBars <= 0 && minSessions <= 0) return firstAt;
  const crypto = symbols.length > 0 && symbols.every((s) => calendarFor(s).name === 'CRYPTO');
  const cal = crypto ? 'CRYPTO' : 'NYSE';
  let sessions = minSessions;
  for (const tf of strategy.timeframes)
    sessions = Math.max(sessions, Math.ceil(strategy.warmUpBars / PER_SESSION[cal][tf]));
  // one more: the first session of the window may be partial (a holiday's early close, a gap in the data)
  sessions = Math.min(MAX_SESSIONS, sessions + 1);
  if (crypto) return firstAt - (sessions + 1) * 86_400_000;
  const nyse = calendarFor('SPY');
  // the day's own session (opened before the first decision), then `sessions` before it
  let t = nyse.previousSession(firstAt).openMs;
  for (let i = 0; i < sessions; i++) t = nyse.previousSession(t).openMs;
  return t;
}

/**
 * A session's trading window on the New York date `date`: the NYSE regular session (early closes included), or
 * the whole New York calendar day when every symbol trades around the clock (crypto). Null: no session that day.
 */
export function sessionWindow(
  date: string,
  symbols: readonly string[],
): { readonly openMs: number; readonly closeMs: number } | null {
  const crypto = symbols.length > 0 && symbols.every((s) => calendarFor(s).name === 'CRYPTO');
  if (crypto) return { openMs: nyWallToUtc(date, 0, 0), closeMs: nyWallToUtc(addDays(date, 1), 0, 0) };
  const s = calendarFor('SPY').sessionFor(date);
  return s ? { openMs: s.openMs, closeMs: s.closeMs } : null;
}
