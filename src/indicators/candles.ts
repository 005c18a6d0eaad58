/**
 * Candlestick patterns with TA-Lib's definitions and default candle settings (TA_Globals candleSettings):
 * averages of body/shadow/range sizes over the previous N candles, kept as running totals exactly as
 * TA-Lib keeps them, so pattern outputs (0, ±80, ±100) match TA-Lib's CDL* functions.
 *
 * One engine runs every pattern, in batch over arrays and incrementally over a short history, using the
 * same pattern predicate and the same running-total updates.
 */
import { IndicatorBase, nanArray, type IndicatorInput } from './core';

type RangeType = 'realBody' | 'highLow' | 'shadows';
interface CandleSetting {
  readonly rangeType: RangeType;
  readonly avgPeriod: number;
  readonly factor: number;
}

/** TA-Lib defaults (ta_global.c). */
export const CANDLE_SETTINGS = {
  BodyLong: { rangeType: 'realBody', avgPeriod: 10, factor: 1.0 },
  BodyVeryLong: { rangeType: 'realBody', avgPeriod: 10, factor: 3.0 },
  BodyShort: { rangeType: 'realBody', avgPeriod: 10, factor: 1.0 },
  BodyDoji: { rangeType: 'highLow', avgPeriod: 10, factor: 0.1 },
  ShadowLong: { rangeType: 'realBody', avgPeriod: 0, factor: 1.0 },
  ShadowVeryLong: { rangeType: 'realBody', avgPeriod: 0, factor: 2.0 },
  ShadowShort: { rangeType: 'shadows', avgPeriod: 10, factor: 1.0 },
  ShadowVeryShort: { rangeType: 'highLow', avgPeriod: 10, factor: 0.1 },
  Near: { rangeType: 'highLow', avgPeriod: 5, factor: 0.2 },
  Far: { rangeType: 'highLow', avgPeriod: 5, factor: 0.6 },
  Equal: { rangeType: 'highLow', avgPeriod: 5, factor: 0.05 },
} as const satisfies Record<string, CandleSetting>;
type SettingName = keyof typeof CANDLE_SETTINGS;

interface Ohlc {
  readonly o: ArrayLike<number>;
  readonly h: ArrayLike<number>;
  readonly l: ArrayLike<number>;
  readonly c: ArrayLike<number>;
}

const realBody = (d: Ohlc, i: number) => Math.abs(d.c[i]! - d.o[i]!);
const upperShadow = (d: Ohlc, i: number) => d.h[i]! - (d.c[i]! >= d.o[i]! ? d.c[i]! : d.o[i]!);
const lowerShadow = (d: Ohlc, i: number) => (d.c[i]! >= d.o[i]! ? d.o[i]! : d.c[i]!) - d.l[i]!;
const color = (d: Ohlc, i: number) => (d.c[i]! >= d.o[i]! ? 1 : -1);
const bodyTop = (d: Ohlc, i: number) => Math.max(d.c[i]!, d.o[i]!);
const bodyBottom = (d: Ohlc, i: number) => Math.min(d.c[i]!, d.o[i]!);

function candleRange(s: CandleSetting, d: Ohlc, i: number): number {
  if (s.rangeType === 'realBody') return realBody(d, i);
  if (s.rangeType === 'highLow') return d.h[i]! - d.l[i]!;
  return upperShadow(d, i) + lowerShadow(d, i);
}

function candleAverage(s: CandleSetting, sum: number, d: Ohlc, i: number): number {
  return (
    (s.factor * (s.avgPeriod !== 0.0 ? sum / s.avgPeriod : candleRange(s, d, i))) /
    (s.rangeType === 'shadows' ? 2.0 : 1.0)
  );
}

/** `avg(k)` is TA_CANDLEAVERAGE of the pattern's k-th (setting, candle offset) pair at candle i. */
type Predicate = (d: Ohlc, i: number, avg: (k: number) => number) => number;

export interface CandlePattern {
  /** TA-Lib function name, e.g. 'CDLDOJI'. */
  readonly name: string;
  /** The averages it uses: [setting, offset] where offset 1 means "measured at candle i−1". */
  readonly averages: ReadonlyArray<readonly [SettingName, number]>;
  /** Candles before the first output (TA-Lib lookback). */
  readonly lookback: number;
  readonly test: Predicate;
}

function lookbackOf(averages: ReadonlyArray<readonly [SettingName, number]>, extra: number): number {
  let m = 0;
  for (const [s] of averages) m = Math.max(m, CANDLE_SETTINGS[s].avgPeriod);
  return m + extra;
}

function pattern(
  name: string,
  averages: Array<readonly [SettingName, number]>,
  extra: number,
  test: Predicate,
): CandlePattern {
  return { name, averages, lookback: lookbackOf(averages, extra), test };
}

export const CANDLE_PATTERNS: readonly CandlePattern[] = [
  pattern('CDLDOJI', [['BodyDoji', 0]], 0, (d, i, a) => (realBody(d, i) <= a(0) ? 100 : 0)),
  pattern(
    'CDLDRAGONFLYDOJI',
    [
      ['BodyDoji', 0],
      ['ShadowVeryShort', 0],
    ],
    0,
    (d, i, a) => (realBody(d, i) <= a(0) && upperShadow(d, i) < a(1) && lowerShadow(d, i) > a(1) ? 100 : 0),
  ),
  pattern(
    'CDLGRAVESTONEDOJI',
    [
      ['BodyDoji', 0],
      ['ShadowVeryShort', 0],
    ],
    0,
    (d, i, a) => (realBody(d, i) <= a(0) && lowerShadow(d, i) < a(1) && upperShadow(d, i) > a(1) ? 100 : 0),
  ),
  pattern(
    'CDLMARUBOZU',
    [
      ['BodyLong', 0],
      ['ShadowVeryShort', 0],
    ],
    0,
    (d, i, a) =>
      realBody(d, i) > a(0) && upperShadow(d, i) < a(1) && lowerShadow(d, i) < a(1) ? color(d, i) * 100 : 0,
  ),
  pattern('CDLSPINNINGTOP', [['BodyShort', 0]], 0, (d, i, a) =>
    realBody(d, i) < a(0) && upperShadow(d, i) > realBody(d, i) && lowerShadow(d, i) > realBody(d, i)
      ? color(d, i) * 100
      : 0,
  ),
  pattern(
    'CDLLONGLINE',
    [
      ['BodyLong', 0],
      ['ShadowShort', 0],
    ],
    0,
    (d, i, a) =>
      realBody(d, i) > a(0) && upperShadow(d, i) < a(1) && lowerShadow(d, i) < a(1) ? color(d, i) * 100 : 0,
  ),
  pattern(
    'CDLSHORTLINE',
    [
      ['BodyShort', 0],
      ['ShadowShort', 0],
    ],
    0,
    (d, i, a) =>
      realBody(d, i) < a(0) && upperShadow(d, i) < a(1) && lowerShadow(d, i) < a(1) ? color(d, i) * 100 : 0,
  ),
  pattern(
    'CDLHIGHWAVE',
    [
      ['BodyShort', 0],
      ['ShadowVeryLong', 0],
    ],
    0,
    (d, i, a) =>
      realBody(d, i) < a(0) && upperShadow(d, i) > a(1) && lowerShadow(d, i) > a(1) ? color(d, i) * 100 : 0,
  ),
  pattern(
    'CDLHAMMER',
    [
      ['BodyShort', 0],
      ['ShadowLong', 0],
      ['ShadowVeryShort', 0],
      ['Near', 1],
    ],
    1,
    (d, i, a) =>
      realBody(d, i) < a(0) &&
      lowerShadow(d, i) > a(1) &&
      upperShadow(d, i) < a(2) &&
      bodyBottom(d, i) <= d.l[i - 1]! + a(3)
        ? 100
        : 0,
  ),
  pattern(
    'CDLHANGINGMAN',
    [
      ['BodyShort', 0],
      ['ShadowLong', 0],
      ['ShadowVeryShort', 0],
      ['Near', 1],
    ],
    1,
    (d, i, a) =>
      realBody(d, i) < a(0) &&
      lowerShadow(d, i) > a(1) &&
      upperShadow(d, i) < a(2) &&
      bodyBottom(d, i) >= d.h[i - 1]! - a(3)
        ? -100
        : 0,
  ),
  pattern(
    'CDLSHOOTINGSTAR',
    [
      ['BodyShort', 0],
      ['ShadowLong', 0],
      ['ShadowVeryShort', 0],
    ],
    1,
    (d, i, a) =>
      realBody(d, i) < a(0) &&
      upperShadow(d, i) > a(1) &&
      lowerShadow(d, i) < a(2) &&
      bodyBottom(d, i) > bodyTop(d, i - 1)
        ? -100
        : 0,
  ),
  pattern(
    'CDLINVERTEDHAMMER',
    [
      ['BodyShort', 0],
      ['ShadowLong', 0],
      ['ShadowVeryShort', 0],
    ],
    1,
    (d, i, a) =>
      realBody(d, i) < a(0) &&
      upperShadow(d, i) > a(1) &&
      lowerShadow(d, i) < a(2) &&
      bodyTop(d, i) < bodyBottom(d, i - 1)
        ? 100
        : 0,
  ),
  // TA-Lib declares a lookback of 2 for engulfing although it only looks one candle back.
  pattern('CDLENGULFING', [], 2, (d, i) => {
    const o = d.o;
    const c = d.c;
    const engulf =
      (color(d, i) === 1 &&
        color(d, i - 1) === -1 &&
        ((c[i]! >= o[i - 1]! && o[i]! < c[i - 1]!) || (c[i]! > o[i - 1]! && o[i]! <= c[i - 1]!))) ||
      (color(d, i) === -1 &&
        color(d, i - 1) === 1 &&
        ((o[i]! >= c[i - 1]! && c[i]! < o[i - 1]!) || (o[i]! > c[i - 1]! && c[i]! <= o[i - 1]!)));
    if (!engulf) return 0;
    return o[i]! !== c[i - 1]! && c[i]! !== o[i - 1]! ? color(d, i) * 100 : color(d, i) * 80;
  }),
  pattern(
    'CDLHARAMI',
    [
      ['BodyLong', 1],
      ['BodyShort', 0],
    ],
    1,
    (d, i, a) => {
      if (!(realBody(d, i - 1) > a(0) && realBody(d, i) <= a(1))) return 0;
      if (bodyTop(d, i) < bodyTop(d, i - 1) && bodyBottom(d, i) > bodyBottom(d, i - 1))
        return -color(d, i - 1) * 100;
      if (bodyTop(d, i) <= bodyTop(d, i - 1) && bodyBottom(d, i) >= bodyBottom(d, i - 1))
        return -color(d, i - 1) * 80;
      return 0;
    },
  ),
];

export function candlePattern(name: string): CandlePattern {
  const p = CANDLE_PATTERNS.find((x) => x.name === name.toUpperCase());
  if (!p)
    throw new RangeError(
      `candle pattern "${name}" is not implemented; use one of ${CANDLE_PATTERNS.map((x) => x.name).join(', ')}`,
    );
  return p;
}

/**
 * Running totals as TA-Lib keeps them: for (setting, offset) the total covers candles
 * [i−offset−avgPeriod, i−offset) and after each candle adds range(i−offset) − range(trailing).
 */
class Totals {
  readonly sums: Float64Array;
  private readonly settings: CandleSetting[];
  private readonly offsets: number[];
  constructor(readonly p: CandlePattern) {
    this.sums = new Float64Array(p.averages.length);
    this.settings = p.averages.map(([s]) => CANDLE_SETTINGS[s]);
    this.offsets = p.averages.map(([, o]) => o);
  }
  init(d: Ohlc, start: number): void {
    for (let k = 0; k < this.sums.length; k++) {
      const s = this.settings[k]!;
      const end = start - this.offsets[k]!;
      let t = 0;
      for (let j = end - s.avgPeriod; j < end; j++) t += candleRange(s, d, j);
      this.sums[k] = t;
    }
  }
  avg(d: Ohlc, i: number, k: number): number {
    return candleAverage(this.settings[k]!, this.sums[k]!, d, i - this.offsets[k]!);
  }
  advance(d: Ohlc, i: number): void {
    for (let k = 0; k < this.sums.length; k++) {
      const s = this.settings[k]!;
      if (s.avgPeriod === 0) continue;
      const at = i - this.offsets[k]!;
      this.sums[k] = this.sums[k]! + (candleRange(s, d, at) - candleRange(s, d, at - s.avgPeriod));
    }
  }
}

/** Batch: NaN before the lookback, then the pattern value (0, ±80, ±100). */
export function candleBatch(
  p: CandlePattern,
  open: Float64Array,
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
): Float64Array {
  const n = close.length;
  const out = nanArray(n);
  if (n <= p.lookback) return out;
  const d: Ohlc = { o: open, h: high, l: low, c: close };
  const t = new Totals(p);
  t.init(d, p.lookback);
  let i = 0;
  const avg = (k: number) => t.avg(d, i, k);
  for (i = p.lookback; i < n; i++) {
    out[i] = p.test(d, i, avg);
    t.advance(d, i);
  }
  return out;
}

/** Incremental: keeps the last lookback+1 candles in time order and runs the same engine on them. */
export class CandlePatternIndicator extends IndicatorBase {
  readonly name: string;
  private readonly o: number[] = [];
  private readonly h: number[] = [];
  private readonly l: number[] = [];
  private readonly c: number[] = [];
  private readonly totals: Totals;
  constructor(readonly pattern: CandlePattern) {
    super([pattern.name.toLowerCase()], pattern.lookback + 1);
    this.name = pattern.name;
    this.totals = new Totals(pattern);
  }
  protected step(b: IndicatorInput, idx: number): void {
    const p = this.pattern;
    this.o.push(b.open);
    this.h.push(b.high);
    this.l.push(b.low);
    this.c.push(b.close);
    if (this.o.length > p.lookback + 1) {
      this.o.shift();
      this.h.shift();
      this.l.shift();
      this.c.shift();
    }
    if (idx < p.lookback) return;
    const d: Ohlc = { o: this.o, h: this.h, l: this.l, c: this.c };
    const i = this.o.length - 1; // = lookback
    if (idx === p.lookback) this.totals.init(d, i);
    this.outputs[0] = p.test(d, i, (k) => this.totals.avg(d, i, k));
    this.totals.advance(d, i);
  }
  protected clear(): void {
    this.o.length = this.h.length = this.l.length = this.c.length = 0;
    this.totals.sums.fill(0);
  }
}
