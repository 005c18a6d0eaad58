/**
 * Streaming validation of bars and quotes. It rejects or quarantines and never repairs: a rejected row
 * is not stored, a warned row is stored as-is, and every finding names the symbol, ts, rule and value.
 * Pure (no I/O); the caller decides where findings go (the data_quality table).
 */
import type { Timeframe } from '../model/timeframe';
import { TIMEFRAME_MS } from '../model/timeframe';
import { NYSE, dateLabelMs, dateOfLabelMs, extendedHoursMs, type ExchangeCalendar } from './calendar';

export type Severity = 'reject' | 'quarantine' | 'warn';

export const QUALITY_RULES = [
  'parse_error',
  'ohlc_inconsistent',
  'non_positive_price',
  'negative_volume',
  'zero_volume',
  'duplicate_ts',
  'out_of_order_ts',
  'outside_session',
  'gap',
  'return_outlier',
  'crossed_quote',
  'locked_quote',
  'one_sided_quote',
  'negative_size',
  'implausible_ts',
  'implausible_value',
  'file_error',
  'db_error',
  'synthetic_over_real',
] as const;
export type QualityRule = (typeof QUALITY_RULES)[number];

/** One data-quality finding. `ts` is null when the row's timestamp could not be read. */
export interface QualityFinding {
  readonly symbol: string;
  readonly timeframe: Timeframe | null;
  readonly ts: number | null;
  readonly rule: QualityRule;
  readonly severity: Severity;
  readonly value: string;
  readonly detail: string;
  /** file:line, or the request that returned the row. */
  readonly location: string;
  /** The field that failed, when one did. */
  readonly field?: string;
}

/** A bar as read from a source, before it is accepted. */
export interface RawBar {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * What a stored price or volume may plausibly be. Values outside are `implausible_value` (rejected): they
 * are typos, unit errors or corrupt records (1e308, denormals like 1e-310), never real prints.
 */
export interface ValueBounds {
  /** Smallest positive price (default 1e-12: sub-satoshi quotes of tiny tokens priced in BTC stay valid). */
  readonly minPrice: number;
  /** Largest price (default 1e9; BRK.A and BTC are below 1e6). */
  readonly maxPrice: number;
  /** Largest volume or size (default 1e15). */
  readonly maxVolume: number;
  /** Smallest non-zero volume or size (default 1e-12, below one satoshi). */
  readonly minPositiveVolume: number;
}

const DEFAULT_VALUE_BOUNDS: ValueBounds = {
  minPrice: 1e-12,
  maxPrice: 1e9,
  maxVolume: 1e15,
  minPositiveVolume: 1e-12,
};

/**
 * The earliest plausible bar time for an instrument on this calendar: crypto did not trade before the
 * Bitcoin genesis block (2009-01-03); no US equity bar series starts before 1920 (CRSP's daily file starts
 * in 1925). Rows before it are `implausible_ts`. A caller may set a later floor (`minTs`).
 */
export function firstPlausibleMs(calendar: ExchangeCalendar): number {
  return calendar.name === 'CRYPTO' ? Date.UTC(2009, 0, 3) : Date.UTC(1920, 0, 1);
}

/**
 * Plausible time window of a row: [floor, now + one bar]. `now` is read again only when a row lies past
 * the last limit, so a long-lived validator (a live stream) keeps up and a bulk import reads it rarely.
 */
class TimeWindow {
  private limit = -Infinity;
  constructor(
    readonly minTs: number,
    private readonly barMs: number,
    private readonly now: () => number,
  ) {}

  /** Why `ts` is implausible, or undefined. */
  problem(ts: number): string | undefined {
    if (!Number.isFinite(ts)) return `${ts} is not a time`;
    if (ts < this.minTs)
      return `${new Date(ts).toISOString()} is before ${new Date(this.minTs).toISOString().slice(0, 10)}, the first plausible day`;
    if (ts > this.limit) {
      this.limit = this.now() + this.barMs;
      if (ts > this.limit) return `${new Date(ts).toISOString()} is in the future (after now + one bar)`;
    }
    return undefined;
  }
}

/** Why a price is not plausible, or undefined (non-positive prices are a separate rule). */
function priceProblem(v: number, b: ValueBounds): string | undefined {
  if (v > b.maxPrice) return `${v} is above the plausible maximum ${b.maxPrice}`;
  if (v < b.minPrice) return `${v} is below the plausible minimum ${b.minPrice}`;
  return undefined;
}

/** Why a volume or size is not plausible (NaN, infinite, denormal, absurd), or undefined. */
function volumeProblem(v: number, b: ValueBounds): string | undefined {
  if (Number.isNaN(v)) return 'NaN is not a volume';
  if (v > b.maxVolume) return `${v} is above the plausible maximum ${b.maxVolume}`;
  if (v > 0 && v < b.minPositiveVolume) return `${v} is below the plausible minimum ${b.minPositiveVolume}`;
  return undefined;
}

export interface BarValidatorOptions {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly calendar?: ExchangeCalendar;
  /** Rows before this are implausible (default `firstPlausibleMs(calendar)`; a later floor wins). */
  readonly minTs?: number;
  /** Wall clock for the "not after now + one bar" check (default Date.now). */
  readonly now?: () => number;
  readonly bounds?: Partial<ValueBounds>;
  /** Robust z-score above which a log return is an outlier (warned, still stored). Default 12. */
  readonly outlierZ?: number;
  /** Missing session slots before a gap is reported. Default: 1 (1d, 1h, crypto), 15 (equity 1m), 3 (5m/15m). */
  readonly gapMinSlots?: number;
  /** A return must also exceed this in absolute log terms to be an outlier (default by timeframe: 1m 1%, 5m 1.5%, 15m 2%, 1h 3%, 1d 8%). */
  readonly minAbsReturn?: number;
  /** Returns kept for the rolling median/MAD. Default 250. */
  readonly outlierWindow?: number;
}

export interface BarVerdict {
  readonly accepted: boolean;
  readonly findings: QualityFinding[];
}

const OUTLIER_MIN_HISTORY = 20;
const MIN_ABS_RETURN: Record<Timeframe, number> = {
  '1m': 0.01,
  '5m': 0.015,
  '15m': 0.02,
  '1h': 0.03,
  '1d': 0.08,
};

/** Median of the first n entries of a scratch array (sorted in place). */
function medianOf(a: Float64Array, n: number): number {
  const s = a.subarray(0, n).sort();
  const m = n >> 1;
  return n % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Validates one symbol/timeframe stream of bars in file order. Rejects: non-positive prices, OHLC
 * inconsistency, negative volume, duplicate and out-of-order timestamps. Quarantines bars outside the
 * session (not stored). Warns (stored): zero volume, gaps against the calendar, return outliers by a
 * robust z-score computed only from earlier returns (no look-ahead).
 */
export class BarValidator {
  private readonly cal: ExchangeCalendar;
  private readonly tfMs: number;
  private readonly outlierZ: number;
  private readonly gapMinSlots: number;
  private readonly window: number;
  private readonly minAbsReturn: number;
  private readonly time: TimeWindow;
  private readonly bounds: ValueBounds;
  private lastTs = -Infinity;
  private lastClose = NaN;
  private readonly returns: Float64Array;
  private readonly scratch: Float64Array;
  private nReturns = 0;
  private head = 0;
  private statsAge = Infinity;
  private med = 0;
  private mad = 0;

  constructor(private readonly opts: BarValidatorOptions) {
    this.cal = opts.calendar ?? NYSE;
    this.tfMs = TIMEFRAME_MS[opts.timeframe];
    this.outlierZ = opts.outlierZ ?? 12;
    const crypto = this.cal.name === 'CRYPTO';
    this.gapMinSlots =
      opts.gapMinSlots ??
      (opts.timeframe === '1m' && !crypto
        ? 15
        : opts.timeframe === '5m' || opts.timeframe === '15m'
          ? crypto
            ? 1
            : 3
          : 1);
    this.window = opts.outlierWindow ?? 250;
    this.minAbsReturn = opts.minAbsReturn ?? MIN_ABS_RETURN[opts.timeframe];
    this.returns = new Float64Array(this.window);
    this.scratch = new Float64Array(this.window);
    this.bounds = { ...DEFAULT_VALUE_BOUNDS, ...opts.bounds };
    this.time = new TimeWindow(
      Math.max(firstPlausibleMs(this.cal), opts.minTs ?? -Infinity),
      this.tfMs,
      opts.now ?? Date.now,
    );
  }

  /** Last accepted ts (for resuming and for gap checks at a chunk's end). */
  get lastAcceptedTs(): number {
    return this.lastTs;
  }

  private finding(
    ts: number | null,
    rule: QualityRule,
    severity: Severity,
    value: string,
    detail: string,
    location: string,
    field?: string,
  ): QualityFinding {
    return {
      symbol: this.opts.symbol,
      timeframe: this.opts.timeframe,
      ts,
      rule,
      severity,
      value,
      detail,
      location,
      ...(field ? { field } : {}),
    };
  }

  /** Checks one bar; `location` is file:line or the request. */
  check(bar: RawBar, location: string): BarVerdict {
    const findings: QualityFinding[] = [];
    const { ts } = bar;
    let reject = false;
    for (const f of ['open', 'high', 'low', 'close'] as const) {
      if (!(bar[f] > 0)) {
        findings.push(
          this.finding(ts, 'non_positive_price', 'reject', String(bar[f]), `${f} must be > 0`, location, f),
        );
        reject = true;
      } else {
        const why = priceProblem(bar[f], this.bounds);
        if (why) {
          findings.push(this.finding(ts, 'implausible_value', 'reject', String(bar[f]), why, location, f));
          reject = true;
        }
      }
    }
    const tsWhy = this.time.problem(ts);
    if (tsWhy) {
      findings.push(
        this.finding(
          Number.isFinite(ts) ? ts : null,
          'implausible_ts',
          'reject',
          Number.isFinite(ts) ? new Date(ts).toISOString() : String(ts),
          tsWhy,
          location,
          'ts',
        ),
      );
      // A row from the far future or past says nothing about order: it must not make the rows after it
      // out of order, so it is rejected before the order checks and never becomes the last accepted ts.
      return { accepted: false, findings };
    }
    if (!reject) {
      if (bar.high < bar.low) {
        findings.push(
          this.finding(
            ts,
            'ohlc_inconsistent',
            'reject',
            `high=${bar.high} low=${bar.low}`,
            'high is below low',
            location,
            'high',
          ),
        );
        reject = true;
      } else if (bar.open > bar.high || bar.open < bar.low) {
        findings.push(
          this.finding(
            ts,
            'ohlc_inconsistent',
            'reject',
            `open=${bar.open} low=${bar.low} high=${bar.high}`,
            'open outside [low, high]',
            location,
            'open',
          ),
        );
        reject = true;
      } else if (bar.close > bar.high || bar.close < bar.low) {
        findings.push(
          this.finding(
            ts,
            'ohlc_inconsistent',
            'reject',
            `close=${bar.close} low=${bar.low} high=${bar.high}`,
            'close outside [low, high]',
            location,
            'close',
          ),
        );
        reject = true;
      }
    }
    const volWhy = volumeProblem(bar.volume, this.bounds);
    if (volWhy) {
      findings.push(
        this.finding(ts, 'implausible_value', 'reject', String(bar.volume), volWhy, location, 'volume'),
      );
      reject = true;
    } else if (bar.volume < 0) {
      findings.push(
        this.finding(
          ts,
          'negative_volume',
          'reject',
          String(bar.volume),
          'volume must be >= 0',
          location,
          'volume',
        ),
      );
      reject = true;
    }
    if (ts === this.lastTs) {
      findings.push(
        this.finding(
          ts,
          'duplicate_ts',
          'reject',
          new Date(ts).toISOString(),
          'a bar with this ts was already accepted',
          location,
          'ts',
        ),
      );
      reject = true;
    } else if (ts < this.lastTs) {
      findings.push(
        this.finding(
          ts,
          'out_of_order_ts',
          'reject',
          new Date(ts).toISOString(),
          `earlier than the previous bar ${new Date(this.lastTs).toISOString()}`,
          location,
          'ts',
        ),
      );
      reject = true;
    }
    if (reject) return { accepted: false, findings };

    const session = this.sessionCheck(ts);
    if (session) {
      findings.push(
        this.finding(
          ts,
          'outside_session',
          'quarantine',
          new Date(ts).toISOString(),
          session,
          location,
          'ts',
        ),
      );
      return { accepted: false, findings };
    }
    if (bar.volume === 0)
      findings.push(
        this.finding(ts, 'zero_volume', 'warn', '0', 'no volume in this bar', location, 'volume'),
      );

    const missing = this.lastTs === -Infinity ? 0 : this.missingSlots(this.lastTs, ts);
    if (missing >= this.gapMinSlots) {
      findings.push(
        this.finding(
          ts,
          'gap',
          'warn',
          String(missing),
          `${missing} missing ${this.opts.timeframe} slot(s) since ${new Date(this.lastTs).toISOString()}`,
          location,
        ),
      );
    }
    // Returns across a reported gap compare different regimes (or a re-used ticker): not an outlier test.
    if (this.lastTs !== -Infinity && missing < this.gapMinSlots && this.lastClose > 0) {
      const r = Math.log(bar.close / this.lastClose);
      // The open is checked against the previous close too: a bad print at the open (SPY 2000-12-18)
      // leaves the close-to-close return normal.
      for (const [field, price] of [
        ['open', bar.open],
        ['close', bar.close],
      ] as const) {
        const x = Math.log(price / this.lastClose);
        if (Math.abs(x) < this.minAbsReturn) continue;
        const z = this.robustZ(x);
        if (z !== null && Math.abs(z) > this.outlierZ) {
          findings.push(
            this.finding(
              ts,
              'return_outlier',
              'warn',
              x.toFixed(6),
              `log return of ${field} vs previous close ${x.toFixed(4)} has robust z ${z.toFixed(1)}`,
              location,
              field,
            ),
          );
          break;
        }
      }
      this.pushReturn(r);
    }
    this.lastTs = ts;
    this.lastClose = bar.close;
    return { accepted: true, findings };
  }

  /** Why `ts` is outside the trading calendar, or undefined. */
  private sessionCheck(ts: number): string | undefined {
    if (this.cal.name === 'CRYPTO') {
      if (this.opts.timeframe === '1d' && ts % 86_400_000 !== 0)
        return 'a daily bar must be labelled at 00:00Z';
      if (this.opts.timeframe !== '1d' && ts % this.tfMs !== 0)
        return `not aligned to ${this.opts.timeframe}`;
      return undefined;
    }
    if (this.opts.timeframe === '1d') {
      if (ts % 86_400_000 !== 0) return 'a daily bar must be labelled with its date at 00:00Z';
      const date = dateOfLabelMs(ts);
      const info = this.cal.sessionFor(date);
      return info ? undefined : `${date} is not a ${this.cal.name} trading day`;
    }
    const s = this.cal.sessionFor(ts);
    if (!s) return `${this.cal.localDate(ts)} is not a ${this.cal.name} trading day`;
    const ext = extendedHoursMs(s.date)!;
    // Hour bars are labelled on the clock hour, so 09:00 (holding 09:30–10:00) is inside the session.
    const endOfBar = ts + this.tfMs;
    if (endOfBar <= ext.startMs || ts >= ext.endMs) return 'outside 04:00–20:00 New York';
    if (ts % this.tfMs !== 0) return `not aligned to ${this.opts.timeframe}`;
    return undefined;
  }

  /** Regular-session slots of this timeframe strictly between two accepted bars. */
  private missingSlots(prevTs: number, ts: number): number {
    if (this.cal.name === 'CRYPTO') return Math.max(0, Math.round((ts - prevTs) / this.tfMs) - 1);
    if (this.opts.timeframe === '1d') {
      const between = NYSE.sessionsBetween(dateLabelMs(dateOfLabelMs(prevTs)) + 86_400_000, ts);
      return between.length;
    }
    const tf = this.tfMs;
    const place = (t: number) => {
      const s = this.cal.sessionFor(t) ?? this.cal.previousSession(t);
      const first = Math.floor(s.openMs / tf) * tf;
      const per = Math.ceil((s.closeMs - first) / tf);
      // Slots of this session at or before t: 0 pre-market, all of them after the close.
      const upTo = t < first ? 0 : Math.min(per, Math.floor((t - first) / tf) + 1);
      return { s, per, upTo, inSession: t >= first && t < s.closeMs };
    };
    const a = place(prevTs);
    const b = place(ts);
    const beforeB = b.upTo - (b.inSession ? 1 : 0);
    if (a.s.date === b.s.date) return Math.max(0, beforeB - a.upTo);
    let between = 0;
    for (const s of this.cal.sessionsBetween(a.s.closeMs, b.s.openMs)) {
      between += Math.ceil((s.closeMs - Math.floor(s.openMs / tf) * tf) / tf);
    }
    return a.per - a.upTo + between + beforeB;
  }

  private pushReturn(r: number): void {
    this.returns[this.head] = r;
    this.head = (this.head + 1) % this.window;
    if (this.nReturns < this.window) this.nReturns++;
    this.statsAge++;
  }

  private robustZ(r: number): number | null {
    if (this.nReturns < OUTLIER_MIN_HISTORY) return null;
    // Refresh median/MAD every window/5 returns: cheap, and only from past returns.
    if (this.statsAge >= Math.max(1, Math.floor(this.window / 5)) || this.nReturns < this.window) {
      const n = this.nReturns;
      this.scratch.set(this.returns.subarray(0, n));
      this.med = medianOf(this.scratch, n);
      for (let i = 0; i < n; i++) this.scratch[i] = Math.abs(this.returns[i]! - this.med);
      this.mad = medianOf(this.scratch, n);
      this.statsAge = 0;
    }
    // Flat stretches (MAD 0) make z meaningless; fall back to a tiny floor so a jump still stands out.
    const scale = 1.4826 * Math.max(this.mad, 1e-4);
    return (r - this.med) / scale;
  }
}

/** A quote as read from a source; a missing side is NaN. */
export interface RawQuote {
  readonly ts: number;
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
}

/** Validates a quote stream: crossed quotes, bad prices, negative sizes and order are rejected. */
export interface QuoteValidatorOptions {
  readonly calendar?: ExchangeCalendar;
  readonly minTs?: number;
  readonly now?: () => number;
  readonly bounds?: Partial<ValueBounds>;
}

export class QuoteValidator {
  private lastTs = -Infinity;
  private readonly time: TimeWindow;
  private readonly bounds: ValueBounds;
  constructor(
    private readonly symbol: string,
    opts: QuoteValidatorOptions = {},
  ) {
    this.bounds = { ...DEFAULT_VALUE_BOUNDS, ...opts.bounds };
    // Quote rows are minute snapshots: one minute of clock slack.
    this.time = new TimeWindow(
      Math.max(firstPlausibleMs(opts.calendar ?? NYSE), opts.minTs ?? -Infinity),
      60_000,
      opts.now ?? Date.now,
    );
  }

  check(q: RawQuote, location: string): BarVerdict {
    const findings: QualityFinding[] = [];
    const f = (
      rule: QualityRule,
      severity: Severity,
      value: string,
      detail: string,
      field?: string,
    ): QualityFinding => ({
      symbol: this.symbol,
      timeframe: null,
      ts: q.ts,
      rule,
      severity,
      value,
      detail,
      location,
      ...(field ? { field } : {}),
    });
    let reject = false;
    for (const k of ['bid', 'ask'] as const) {
      if (!Number.isNaN(q[k]) && !(q[k] > 0)) {
        findings.push(f('non_positive_price', 'reject', String(q[k]), `${k} must be > 0`, k));
        reject = true;
      } else if (!Number.isNaN(q[k])) {
        const why = priceProblem(q[k], this.bounds);
        if (why) {
          findings.push(f('implausible_value', 'reject', String(q[k]), why, k));
          reject = true;
        }
      }
    }
    for (const [k, field] of [
      ['bidSize', 'bid_size'],
      ['askSize', 'ask_size'],
    ] as const) {
      const why = volumeProblem(q[k], this.bounds);
      if (why) {
        findings.push(f('implausible_value', 'reject', String(q[k]), why, field));
        reject = true;
      } else if (q[k] < 0) {
        findings.push(f('negative_size', 'reject', String(q[k]), `${field} must be >= 0`, field));
        reject = true;
      }
    }
    const tsWhy = this.time.problem(q.ts);
    if (tsWhy) {
      findings.push(f('implausible_ts', 'reject', String(q.ts), tsWhy, 'ts'));
      return { accepted: false, findings };
    }
    if (Number.isNaN(q.bid) && Number.isNaN(q.ask)) {
      findings.push(f('parse_error', 'reject', '', 'both bid and ask are empty', 'bid'));
      reject = true;
    }
    if (q.bid > q.ask) {
      findings.push(f('crossed_quote', 'reject', `bid=${q.bid} ask=${q.ask}`, 'bid above ask', 'bid'));
      reject = true;
    }
    if (q.ts === this.lastTs) {
      findings.push(
        f(
          'duplicate_ts',
          'reject',
          new Date(q.ts).toISOString(),
          'a quote with this ts was already accepted',
          'ts',
        ),
      );
      reject = true;
    } else if (q.ts < this.lastTs) {
      findings.push(
        f('out_of_order_ts', 'reject', new Date(q.ts).toISOString(), 'earlier than the previous quote', 'ts'),
      );
      reject = true;
    }
    if (reject) return { accepted: false, findings };
    if (Number.isNaN(q.bid) !== Number.isNaN(q.ask)) {
      findings.push(
        f(
          'one_sided_quote',
          'warn',
          `bid=${q.bid} ask=${q.ask}`,
          'only one side quoted',
          Number.isNaN(q.bid) ? 'bid' : 'ask',
        ),
      );
    } else if (q.bid === q.ask) {
      findings.push(f('locked_quote', 'warn', String(q.bid), 'bid equals ask'));
    }
    this.lastTs = q.ts;
    return { accepted: true, findings };
  }
}
