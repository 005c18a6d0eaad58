/**
 * Market regime: a volatility/trend state model on daily closes, estimated online from the data up to t only.
 *
 * Each completed trading day (New York session; for an instrument traded around the clock, the UTC day) adds its
 * log return r to
 *   - a fast and a slow exponentially weighted variance of r (half-lives 5 and 60 days by default): the slow one
 *     is the baseline the model has learnt from the past, the ratio √(fast / slow) says how far today's
 *     volatility is from it;
 *   - the trend z-score: the sum of the last 20 returns over its standard deviation under the baseline
 *     (slow SD × √20).
 * The state, after a warm-up of 30 days:
 *   crisis      volatility ratio ≥ 2 and trend z ≤ −1 (a selloff with volatility twice its baseline); it stays a
 *               crisis until the ratio is back under 1.5 (hysteresis: no flicker at the threshold)
 *   volatile    ratio ≥ 1.5
 *   trend-up    |trend z| ≥ 1 with the sign of the trend
 *   trend-down
 *   calm        otherwise
 * The detector reads a day only once it is complete (the bar that closes at the session's close, or the first
 * bar of the next day), so a state at t never depends on a bar after t. O(1) per bar, deterministic.
 *
 * Who uses it: the trading kernel runs one per symbol for a strategy that declares `regime` (the crisis rule
 * puts risk in REDUCING; strategies read the state through their context, and the reference strategy picks its
 * timeframe by it); the drift monitor stores the day's state beside its drift report; backtest reports show
 * time and P&L by regime.
 */
import { NYSE, nyDate } from '../market/calendar';

export type RegimeState = 'warming-up' | 'calm' | 'trend-up' | 'trend-down' | 'volatile' | 'crisis';

export interface RegimeOptions {
  readonly fastHalfLifeDays: number;
  readonly slowHalfLifeDays: number;
  readonly trendDays: number;
  readonly warmUpDays: number;
  readonly volatileRatio: number;
  readonly crisisRatio: number;
  /** a crisis ends when the volatility ratio falls below this */
  readonly crisisExitRatio: number;
  /** |trend z| at or above this is a trend */
  readonly trendZ: number;
  /** a crisis needs the trend z at or below this */
  readonly crisisTrendZ: number;
  /** the share of a kernel's symbols in crisis that makes the account's risk REDUCING */
  readonly crisisShare: number;
}

const DEFAULT_REGIME_OPTIONS: RegimeOptions = {
  fastHalfLifeDays: 5,
  slowHalfLifeDays: 60,
  trendDays: 20,
  warmUpDays: 30,
  volatileRatio: 1.5,
  crisisRatio: 2,
  crisisExitRatio: 1.5,
  trendZ: 1,
  crisisTrendZ: -1,
  crisisShare: 0.5,
};

/** Options with defaults, each checked (a bad value names its field). */
export function regimeOptions(partial: Partial<RegimeOptions> = {}): RegimeOptions {
  const o = { ...DEFAULT_REGIME_OPTIONS, ...partial };
  for (const k of ['fastHalfLifeDays', 'slowHalfLifeDays', 'volatileRatio', 'crisisRatio'] as const)
    if (!(o[k] > 0)) throw new RangeError(`regime.${k}: must be > 0, got ${o[k]}`);
  for (const k of ['trendDays', 'warmUpDays'] as const)
    if (!(Number.isInteger(o[k]) && o[k] >= 1))
      throw new RangeError(`regime.${k}: must be a positive integer, got ${o[k]}`);
  if (!(o.fastHalfLifeDays < o.slowHalfLifeDays))
    throw new RangeError(
      `regime.fastHalfLifeDays: ${o.fastHalfLifeDays} must be below slowHalfLifeDays ${o.slowHalfLifeDays}`,
    );
  if (!(o.crisisExitRatio > 0 && o.crisisExitRatio <= o.crisisRatio))
    throw new RangeError(`regime.crisisExitRatio: must be in (0, crisisRatio], got ${o.crisisExitRatio}`);
  if (!(o.crisisShare > 0 && o.crisisShare <= 1))
    throw new RangeError(`regime.crisisShare: must be in (0, 1], got ${o.crisisShare}`);
  return o;
}

const alphaOf = (halfLife: number) => 1 - Math.pow(2, -1 / halfLife);

/** The regime of one instrument, fed bar closes in time order. */
export class RegimeDetector {
  readonly o: RegimeOptions;
  private readonly aFast: number;
  private readonly aSlow: number;
  private readonly window: Float64Array;
  private wSum = 0;
  private wN = 0;
  private wAt = 0;
  private fastVar = 0;
  private slowVar = 0;
  private prevDayClose = NaN;
  private dayKey = '';
  private dayEnd = Infinity;
  private lastClose = NaN;
  private dayOpen = false;
  private _days = 0;
  private _state: RegimeState = 'warming-up';
  private _trendZ = 0;
  private _volRatio = 1;
  private _asOf = -Infinity;
  private _completedDay = '';

  constructor(
    options: Partial<RegimeOptions> = {},
    /** true: the instrument trades around the clock (days are UTC days, no session close) */
    private readonly allDay = false,
  ) {
    this.o = regimeOptions(options);
    this.aFast = alphaOf(this.o.fastHalfLifeDays);
    this.aSlow = alphaOf(this.o.slowHalfLifeDays);
    this.window = new Float64Array(this.o.trendDays);
  }

  get state(): RegimeState {
    return this._state;
  }
  get volRatio(): number {
    return this._volRatio;
  }
  get trendZ(): number {
    return this._trendZ;
  }
  /** completed days read */
  get days(): number {
    return this._days;
  }
  /** close time of the bar that completed the newest day read */
  get asOf(): number {
    return this._asOf;
  }
  /** the newest day read (New York date, or UTC date for around-the-clock instruments) */
  get day(): string {
    return this._completedDay;
  }

  /**
   * A bar that closed at `closeTime` with this close. Returns true when a day completed with it (the state may
   * have changed). Bars out of time order are ignored.
   */
  update(closeTime: number, close: number): boolean {
    if (!(close > 0)) return false;
    const key = this.allDay ? new Date(closeTime - 1).toISOString().slice(0, 10) : nyDate(closeTime - 1);
    let completed = false;
    if (key !== this.dayKey) {
      if (key < this.dayKey) return false;
      // the first bar of a new day completes the previous one if its close was never seen
      if (this.dayOpen) completed = this.completeDay(closeTime);
      this.dayKey = key;
      this.dayEnd = this.allDay
        ? Date.parse(`${key}T00:00:00Z`) + 86_400_000
        : (NYSE.sessionFor(closeTime - 1)?.closeMs ?? Infinity);
      this.dayOpen = true;
    }
    this.lastClose = close;
    if (closeTime >= this.dayEnd && this.dayOpen) completed = this.completeDay(closeTime) || completed;
    return completed;
  }

  private completeDay(at: number): boolean {
    this.dayOpen = false;
    this._completedDay = this.dayKey;
    const c = this.lastClose;
    const prev = this.prevDayClose;
    this.prevDayClose = c;
    this._asOf = at;
    if (!(prev > 0)) return false;
    const r = Math.log(c / prev);
    if (!Number.isFinite(r)) return false;
    const r2 = r * r;
    if (this._days === 0) {
      this.fastVar = r2;
      this.slowVar = r2;
    } else {
      this.fastVar += this.aFast * (r2 - this.fastVar);
      this.slowVar += this.aSlow * (r2 - this.slowVar);
    }
    this._days++;
    const w = this.window;
    if (this.wN === w.length) this.wSum -= w[this.wAt]!;
    else this.wN++;
    w[this.wAt] = r;
    this.wSum += r;
    this.wAt = (this.wAt + 1) % w.length;
    const slowSd = Math.sqrt(this.slowVar);
    this._volRatio = slowSd > 0 ? Math.sqrt(this.fastVar) / slowSd : 1;
    this._trendZ = slowSd > 0 ? this.wSum / (slowSd * Math.sqrt(this.wN)) : 0;
    this._state = this.classify();
    return true;
  }

  private classify(): RegimeState {
    const o = this.o;
    if (this._days < o.warmUpDays) return 'warming-up';
    const v = this._volRatio;
    const z = this._trendZ;
    if ((this._state === 'crisis' && v >= o.crisisExitRatio) || (v >= o.crisisRatio && z <= o.crisisTrendZ))
      return 'crisis';
    if (v >= o.volatileRatio) return 'volatile';
    if (z >= o.trendZ) return 'trend-up';
    if (z <= -o.trendZ) return 'trend-down';
    return 'calm';
  }
}

/** A day's regime of one instrument, as reports and the drift monitor show it. */
export interface RegimeDay {
  /** the day (New York, or UTC for around-the-clock instruments) */
  readonly day: string;
  readonly state: RegimeState;
  readonly volRatio: number;
  readonly trendZ: number;
}

/** The regime after every completed day of a bar series (close times ascending). */
export function regimeByDay(
  closeTimes: ArrayLike<number>,
  closes: ArrayLike<number>,
  options: Partial<RegimeOptions> = {},
  allDay = false,
): RegimeDay[] {
  const d = new RegimeDetector(options, allDay);
  const out: RegimeDay[] = [];
  for (let i = 0; i < closeTimes.length; i++)
    if (d.update(closeTimes[i]!, closes[i]!))
      out.push({ day: d.day, state: d.state, volRatio: d.volRatio, trendZ: d.trendZ });
  return out;
}
