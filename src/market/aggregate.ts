/**
 * Session-aware aggregation of 1-minute bars into 5m, 15m, 1h and 1d. Pure; safe in workflows.
 *
 * - Intraday buckets are aligned on the wall clock (New York offsets are whole hours, so a UTC floor is
 *   the same as a New York floor). The first regular-session hour bar is therefore labelled 09:00 and
 *   holds 09:30–09:59 only, which is how Alpaca's own 1Hour bars (and Lean's hour bars) label it.
 * - No bar spans the close: minutes outside the session are dropped (regular mode), and a bucket never
 *   takes minutes from two sessions. Early closes end the last bucket at 13:00.
 * - Daily bars are keyed by the UTC-midnight of the session's date label (the ../shared/data daily
 *   convention); `barCloseMs` says when a bar is complete, which is what look-ahead-safe code must use.
 */
import type { Bar, BarColumns } from '../model/bar';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import { NYSE, dateLabelMs, extendedHoursMs, type ExchangeCalendar } from './calendar';

export type SessionMode = 'regular' | 'extended';

export interface AggregateOptions {
  /** NYSE by default; CRYPTO_24_7 for crypto. */
  readonly calendar?: ExchangeCalendar;
  /** 'regular' (default) keeps only regular-session minutes; 'extended' keeps 04:00–20:00 New York. */
  readonly session?: SessionMode;
}

/** The window of a trading day that minutes may fall in, or null when the exchange is closed that day. */
function windowFor(
  ts: number,
  cal: ExchangeCalendar,
  mode: SessionMode,
): { startMs: number; endMs: number; date: string } | null {
  const s = cal.sessionFor(ts);
  if (!s) return null;
  if (mode === 'extended' && cal.name === 'NYSE') {
    const ext = extendedHoursMs(s.date);
    return ext ? { ...ext, date: s.date } : null;
  }
  return { startMs: s.openMs, endMs: s.closeMs, date: s.date };
}

type SessionWindow = ReturnType<typeof windowFor>;

function bucketIn(ts: number, tf: Timeframe, w: SessionWindow, dayLabel?: number): number | null {
  if (!w || ts < w.startMs || ts >= w.endMs) return null;
  if (tf === '1d') return dayLabel ?? dateLabelMs(w.date);
  const size = TIMEFRAME_MS[tf];
  return Math.floor(ts / size) * size;
}

const HOUR_MS = 3_600_000;

/**
 * `bucketStart` over a run of ascending minutes: the session window is looked up once per UTC hour, not per
 * minute (the calendar's local-date arithmetic dominated aggregation). Exact because every calendar here keeps
 * whole-hour UTC offsets (New York, UTC), so the local date — and with it the session — cannot change inside a
 * UTC hour.
 */
function bucketsOf(tf: Timeframe, opts: AggregateOptions): (ts: number) => number | null {
  const cal = opts.calendar ?? NYSE;
  const mode = opts.session ?? 'regular';
  let hour = NaN;
  let w: SessionWindow = null;
  let label = NaN;
  return (ts) => {
    const h = Math.floor(ts / HOUR_MS);
    if (h !== hour) {
      hour = h;
      const next = windowFor(ts, cal, mode);
      if (next?.date !== w?.date) label = next ? dateLabelMs(next.date) : NaN;
      w = next;
    }
    return bucketIn(ts, tf, w, label);
  };
}

/**
 * The start of the `tf` bucket a 1-minute bar starting at `ts` belongs to, or null when the minute lies
 * outside the session (it is then not part of any aggregated bar).
 */
export function bucketStart(ts: number, tf: Timeframe, opts: AggregateOptions = {}): number | null {
  return bucketIn(ts, tf, windowFor(ts, opts.calendar ?? NYSE, opts.session ?? 'regular'));
}

/** When a bar of timeframe `tf` starting at `ts` is complete (exclusive end, epoch ms). */
export function barCloseMs(ts: number, tf: Timeframe, opts: AggregateOptions = {}): number {
  const cal = opts.calendar ?? NYSE;
  const mode = opts.session ?? 'regular';
  if (tf === '1d') {
    const s = cal.sessionFor(cal.name === 'NYSE' ? ts + 12 * 3_600_000 : ts);
    if (!s) throw new RangeError(`ts: ${new Date(ts).toISOString()} is not a ${cal.name} trading date`);
    if (mode === 'extended' && cal.name === 'NYSE') return extendedHoursMs(s.date)!.endMs;
    return s.closeMs;
  }
  const end = ts + TIMEFRAME_MS[tf];
  // The 09:00 hour bar closes at 10:00; a bar that starts before the window (pre-open hour label) is
  // looked up by its last minute so it maps onto the right session.
  const w = windowFor(end - 60_000, cal, mode);
  return w ? Math.min(end, w.endMs) : end;
}

class Accumulator {
  ts = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  pv = 0;
  vwapOk = true;
  trades = 0;
  tradesOk = true;
  count = 0;

  start(ts: number, b: { open: number; high: number; low: number; close: number; volume: number }): void {
    this.ts = ts;
    this.open = b.open;
    this.high = b.high;
    this.low = b.low;
    this.close = b.close;
    this.volume = b.volume;
    this.pv = 0;
    this.vwapOk = true;
    this.trades = 0;
    this.tradesOk = true;
    this.count = 1;
  }

  add(b: { high: number; low: number; close: number; volume: number }): void {
    if (b.high > this.high) this.high = b.high;
    if (b.low < this.low) this.low = b.low;
    this.close = b.close;
    this.volume += b.volume;
    this.count++;
  }
}

function checkOrder(prev: number, ts: number, i: number): void {
  if (!(ts > prev)) {
    throw new RangeError(
      `bars[${i}].ts: ${new Date(ts).toISOString()} is not after the previous bar; aggregation needs strictly ascending 1m bars`,
    );
  }
}

/** Aggregates ascending 1-minute bars of one symbol into `tf` bars. */
export function aggregateBars(bars: readonly Bar[], tf: Timeframe, opts: AggregateOptions = {}): Bar[] {
  const out: Bar[] = [];
  if (bars.length === 0) return out;
  const symbol = bars[0]!.symbol;
  const acc = new Accumulator();
  let active = false;
  let prevTs = -Infinity;
  const bucketOf = bucketsOf(tf, opts);
  const flush = () => {
    if (!active) return;
    const bar: Bar = {
      symbol,
      timeframe: tf,
      ts: acc.ts,
      open: acc.open,
      high: acc.high,
      low: acc.low,
      close: acc.close,
      volume: acc.volume,
      ...(acc.vwapOk && acc.volume > 0 ? { vwap: acc.pv / acc.volume } : {}),
      ...(acc.tradesOk ? { tradeCount: acc.trades } : {}),
    };
    out.push(bar);
    active = false;
  };
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i]!;
    if (b.timeframe !== '1m') throw new RangeError(`bars[${i}].timeframe: expected 1m, got ${b.timeframe}`);
    checkOrder(prevTs, b.ts, i);
    prevTs = b.ts;
    const bucket = bucketOf(b.ts);
    if (bucket === null) continue;
    if (!active || bucket !== acc.ts) {
      flush();
      acc.start(bucket, b);
      active = true;
    } else {
      acc.add(b);
    }
    if (b.vwap === undefined) acc.vwapOk = false;
    else acc.pv += b.vwap * b.volume;
    if (b.tradeCount === undefined) acc.tradesOk = false;
    else acc.trades += b.tradeCount;
  }
  flush();
  return out;
}

/** Columnar variant of `aggregateBars` for the numeric code (no vwap / trade count). */
export function aggregateColumns(cols: BarColumns, tf: Timeframe, opts: AggregateOptions = {}): BarColumns {
  if (cols.timeframe !== '1m') throw new RangeError(`cols.timeframe: expected 1m, got ${cols.timeframe}`);
  const n = cols.ts.length;
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let k = -1;
  let prevTs = -Infinity;
  const bucketOf = bucketsOf(tf, opts);
  for (let i = 0; i < n; i++) {
    const t = cols.ts[i]!;
    checkOrder(prevTs, t, i);
    prevTs = t;
    const bucket = bucketOf(t);
    if (bucket === null) continue;
    if (k < 0 || ts[k] !== bucket) {
      k++;
      ts[k] = bucket;
      open[k] = cols.open[i]!;
      high[k] = cols.high[i]!;
      low[k] = cols.low[i]!;
      close[k] = cols.close[i]!;
      volume[k] = cols.volume[i]!;
    } else {
      if (cols.high[i]! > high[k]!) high[k] = cols.high[i]!;
      if (cols.low[i]! < low[k]!) low[k] = cols.low[i]!;
      close[k] = cols.close[i]!;
      volume[k] = volume[k]! + cols.volume[i]!;
    }
  }
  const m = k + 1;
  return {
    symbol: cols.symbol,
    timeframe: tf,
    ts: ts.slice(0, m),
    open: open.slice(0, m),
    high: high.slice(0, m),
    low: low.slice(0, m),
    close: close.slice(0, m),
    volume: volume.slice(0, m),
  };
}
