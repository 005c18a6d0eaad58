/**
 * The kernel's bar store: per (symbol, timeframe) columns that grow as bars arrive (a live session appends each
 * minute) or are given whole (a backtest hands over its loaded columns), with a cursor at the newest bar that has
 * closed by the clock. Coarser timeframes are derived from 1-minute bars as they close, with the session-aware
 * aggregation of src/market/aggregate (a 1h bar never spans the close; the daily bar is the regular session; 24/7
 * for crypto), so a backtest and a session see the very same 5m/15m/1h/1d bars at the very same instants.
 *
 * When a bar is complete: intraday bars at ts + timeframe (NYSE's sessions open and close on whole or half hours
 * and its UTC offsets are whole hours, so no intraday bucket is cut short); daily bars at their session's close
 * (NYSE) or at the next UTC midnight (crypto).
 */
import type { Bar, BarColumns } from '../model/bar';
import type { CalendarName } from '../model/instrument';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import { CRYPTO_24_7, NYSE, dateLabelMs, type ExchangeCalendar, type Session } from '../market/calendar';

const DAY_MS = 86_400_000;

export function calendarOf(name: CalendarName): ExchangeCalendar {
  return name === 'CRYPTO' ? CRYPTO_24_7 : NYSE;
}

/** Close time (exclusive end, epoch ms) of a bar of `tf` that starts at `ts`. */
export function closeOf(ts: number, tf: Timeframe, calendar: ExchangeCalendar): number {
  if (tf !== '1d') return ts + TIMEFRAME_MS[tf];
  if (calendar.name === 'CRYPTO') return ts + DAY_MS;
  // daily bars are labelled by the UTC midnight of their session's date; the same dates recur across every
  // symbol and every step, so the calendar is asked once per date
  let memo = DAILY_CLOSES.get(calendar);
  if (!memo) DAILY_CLOSES.set(calendar, (memo = new Map()));
  const hit = memo.get(ts);
  if (hit !== undefined) return hit;
  const s = calendar.sessionFor(ts + 12 * 3_600_000);
  const close = s ? s.closeMs : ts + DAY_MS;
  if (memo.size >= 200_000) memo.clear();
  memo.set(ts, close);
  return close;
}

/** Daily bar start → its session's close, per calendar (bounded: cleared when it reaches 200k dates). */
const DAILY_CLOSES = new WeakMap<ExchangeCalendar, Map<number, number>>();

/** One (symbol, timeframe) series: growable columns and a cursor at the newest closed bar. */
export class BarSeries {
  n = 0;
  /** index of the newest bar closed by the clock, -1 before the first */
  cursor = -1;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  readonly tfMs: number;
  private readonly fixed: boolean;

  constructor(
    readonly symbol: string,
    readonly timeframe: Timeframe,
    readonly calendar: ExchangeCalendar,
    given?: BarColumns,
  ) {
    this.tfMs = TIMEFRAME_MS[timeframe];
    if (given) {
      this.ts = given.ts;
      this.open = given.open;
      this.high = given.high;
      this.low = given.low;
      this.close = given.close;
      this.volume = given.volume;
      this.n = given.ts.length;
      this.fixed = true;
    } else {
      const cap = 256;
      this.ts = new Float64Array(cap);
      this.open = new Float64Array(cap);
      this.high = new Float64Array(cap);
      this.low = new Float64Array(cap);
      this.close = new Float64Array(cap);
      this.volume = new Float64Array(cap);
      this.fixed = false;
    }
  }

  /** Close time of bar i. */
  closeAt(i: number): number {
    return this.timeframe === '1d' ? closeOf(this.ts[i]!, '1d', this.calendar) : this.ts[i]! + this.tfMs;
  }

  /** Appends a bar after the last one (older or equal start times are ignored: a bar already held). */
  append(ts: number, o: number, h: number, l: number, c: number, v: number): boolean {
    if (this.fixed) throw new Error(`series ${this.symbol} ${this.timeframe}: given whole, cannot grow`);
    if (this.n > 0 && ts <= this.ts[this.n - 1]!) return false;
    if (this.n === this.ts.length) this.grow();
    const k = this.n++;
    this.ts[k] = ts;
    this.open[k] = o;
    this.high[k] = h;
    this.low[k] = l;
    this.close[k] = c;
    this.volume[k] = v;
    return true;
  }

  bar(i: number): Bar {
    return {
      symbol: this.symbol,
      timeframe: this.timeframe,
      ts: this.ts[i]!,
      open: this.open[i]!,
      high: this.high[i]!,
      low: this.low[i]!,
      close: this.close[i]!,
      volume: this.volume[i]!,
    };
  }

  /** The columns up to the newest appended bar (views, no copy). */
  columns(): BarColumns {
    return {
      symbol: this.symbol,
      timeframe: this.timeframe,
      ts: this.ts.subarray(0, this.n),
      open: this.open.subarray(0, this.n),
      high: this.high.subarray(0, this.n),
      low: this.low.subarray(0, this.n),
      close: this.close.subarray(0, this.n),
      volume: this.volume.subarray(0, this.n),
    };
  }

  private grow(): void {
    const cap = this.ts.length * 2;
    for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) {
      const a = new Float64Array(cap);
      a.set(this[k]);
      this[k] = a;
    }
  }
}

/**
 * Builds one coarser timeframe from 1-minute bars as they close. `add` takes each closed minute in order; a
 * bucket is complete once a minute of a later bucket arrives or the clock passes the bucket's close
 * (`closeDue`), whichever comes first, and is then appended to the target series.
 */
export class Aggregator {
  private active = false;
  private bucket = 0;
  private bucketClose = 0;
  private o = 0;
  private h = 0;
  private l = 0;
  private c = 0;
  private v = 0;
  private session: Session | null = null;

  constructor(
    readonly target: BarSeries,
    private readonly calendar: ExchangeCalendar,
  ) {}

  /** Feeds one closed 1m bar; returns true when it completed the previous bucket. */
  add(ts: number, o: number, h: number, l: number, c: number, v: number): boolean {
    const b = this.bucketOf(ts);
    let completed = false;
    if (this.active && b !== this.bucket) completed = this.flush();
    if (b === null) return completed;
    if (!this.active) {
      this.active = true;
      this.bucket = b;
      this.bucketClose = closeOf(b, this.target.timeframe, this.calendar);
      this.o = o;
      this.h = h;
      this.l = l;
      this.c = c;
      this.v = v;
    } else {
      if (h > this.h) this.h = h;
      if (l < this.l) this.l = l;
      this.c = c;
      this.v += v;
    }
    return completed;
  }

  /** Completes the open bucket when the clock has reached its close; true when it did. */
  closeDue(now: number): boolean {
    return this.active && this.bucketClose <= now ? this.flush() : false;
  }

  private flush(): boolean {
    this.active = false;
    return this.target.append(this.bucket, this.o, this.h, this.l, this.c, this.v);
  }

  /** The bucket a minute starting at `ts` belongs to (null outside the session), as bucketStart computes it. */
  private bucketOf(ts: number): number | null {
    let s = this.session;
    if (!s || ts < s.openMs || ts >= s.closeMs) s = this.session = this.calendar.sessionFor(ts);
    if (!s || ts < s.openMs || ts >= s.closeMs) return null;
    if (this.target.timeframe === '1d') return dateLabelMs(s.date);
    const size = this.target.tfMs;
    return Math.floor(ts / size) * size;
  }
}
