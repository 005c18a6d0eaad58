/**
 * Volume indicators: OBV, A/D line, ADOSC, MFI (TA-Lib definitions), session-anchored VWAP and relative
 * volume against the same minute-of-day average.
 */
import { newYorkDayNumber, newYorkMinuteOfDay, type SessionKeyFn } from './clock';
import {
  IndicatorBase,
  RingBuffer,
  nanArray,
  outputColumn,
  perToK,
  requirePeriod,
  type IndicatorInput,
} from './core';

// ------------------------------------------------------------------------------------------ OBV
/** TA-Lib OBV: starts at the first bar's volume, then ± volume on up/down closes. */
export function obvBatch(close: Float64Array, volume: Float64Array, into?: Float64Array): Float64Array {
  const n = close.length;
  const out = outputColumn(n, 0, into);
  if (n === 0) return out;
  let obv = volume[0]!;
  let prev = close[0]!;
  for (let i = 0; i < n; i++) {
    const c = close[i]!;
    const v = volume[i]!;
    // Branch-free form of "+v if up, −v if down": a + (−b) is the same IEEE operation as a − b.
    obv += c > prev ? v : c < prev ? -v : 0;
    out[i] = obv;
    prev = c;
  }
  return out;
}

export class OBV extends IndicatorBase {
  readonly name = 'OBV';
  private obv = 0;
  private prev = 0;
  constructor() {
    super(['obv'], 1);
  }
  protected step(b: IndicatorInput, i: number): void {
    if (i === 0) {
      this.obv = b.volume;
      this.prev = b.close;
    }
    this.obv += b.close > this.prev ? b.volume : b.close < this.prev ? -b.volume : 0;
    this.prev = b.close;
    this.outputs[0] = this.obv;
  }
  protected clear(): void {
    this.obv = this.prev = 0;
  }
}

// ------------------------------------------------------------------------------------------ AD / ADOSC
/** The money-flow volume of one bar as TA-Lib's CALCULATE_AD adds it (0 when high = low). */
function adTerm(h: number, l: number, c: number, v: number): number {
  const r = h - l;
  return r > 0.0 ? ((c - l - (h - c)) / r) * v : 0;
}

export function adBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
): Float64Array {
  const n = close.length;
  const out = nanArray(n);
  let ad = 0;
  for (let i = 0; i < n; i++) {
    const r = high[i]! - low[i]!;
    if (r > 0.0) ad += ((close[i]! - low[i]! - (high[i]! - close[i]!)) / r) * volume[i]!;
    out[i] = ad;
  }
  return out;
}

export class AD extends IndicatorBase {
  readonly name = 'AD';
  private ad = 0;
  constructor() {
    super(['ad'], 1);
  }
  protected step(b: IndicatorInput): void {
    if (b.high - b.low > 0.0) this.ad += adTerm(b.high, b.low, b.close, b.volume);
    this.outputs[0] = this.ad;
  }
  protected clear(): void {
    this.ad = 0;
  }
}

/** Chaikin A/D oscillator: EMA(fast) − EMA(slow) of the A/D line, both seeded with the first A/D value. */
export class AdoscState {
  private i = -1;
  private ad = 0;
  private fastEma = 0;
  private slowEma = 0;
  private readonly fk: number;
  private readonly sk: number;
  readonly lookback: number;
  constructor(fast: number, slow: number) {
    this.fk = perToK(fast);
    this.sk = perToK(slow);
    this.lookback = Math.max(fast, slow) - 1;
  }
  push(h: number, l: number, c: number, v: number): number {
    const i = ++this.i;
    if (h - l > 0.0) this.ad += adTerm(h, l, c, v);
    if (i === 0) {
      this.fastEma = this.ad;
      this.slowEma = this.ad;
    } else {
      this.fastEma = this.fk * this.ad + (1.0 - this.fk) * this.fastEma;
      this.slowEma = this.sk * this.ad + (1.0 - this.sk) * this.slowEma;
    }
    return i >= this.lookback ? this.fastEma - this.slowEma : NaN;
  }
  reset(): void {
    this.i = -1;
    this.ad = this.fastEma = this.slowEma = 0;
  }
}

export function adoscBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  fast = 3,
  slow = 10,
): Float64Array {
  requirePeriod('ADOSC', 'fast', fast, 2);
  requirePeriod('ADOSC', 'slow', slow, 2);
  const n = close.length;
  const out = nanArray(n);
  if (n === 0) return out;
  const fk = perToK(fast);
  const sk = perToK(slow);
  const ofk = 1.0 - fk;
  const osk = 1.0 - sk;
  const lookback = Math.max(fast, slow) - 1;
  let ad = 0;
  if (high[0]! - low[0]! > 0.0) ad += adTerm(high[0]!, low[0]!, close[0]!, volume[0]!);
  let fe = ad;
  let se = ad;
  if (lookback === 0) out[0] = 0;
  for (let i = 1; i < n; i++) {
    const r = high[i]! - low[i]!;
    if (r > 0.0) ad += ((close[i]! - low[i]! - (high[i]! - close[i]!)) / r) * volume[i]!;
    fe = fk * ad + ofk * fe;
    se = sk * ad + osk * se;
    if (i >= lookback) out[i] = fe - se;
  }
  return out;
}

export class ADOSC extends IndicatorBase {
  readonly name: string;
  private readonly s: AdoscState;
  constructor(
    readonly fast = 3,
    readonly slow = 10,
  ) {
    super(
      ['adosc'],
      Math.max(requirePeriod('ADOSC', 'fast', fast, 2), requirePeriod('ADOSC', 'slow', slow, 2)),
    );
    this.name = `ADOSC(${fast},${slow})`;
    this.s = new AdoscState(fast, slow);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.high, b.low, b.close, b.volume);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ MFI
/**
 * TA-Lib MFI: typical-price money flow split into positive/negative by the change in typical price
 * (unchanged → neither), running sums over `period` flows; 0 when the total is below 1.
 */
export class MfiState {
  private readonly pos: Float64Array;
  private readonly neg: Float64Array;
  private idx = 0;
  private i = -1;
  private prevTp = 0;
  private posSum = 0;
  private negSum = 0;
  constructor(readonly period: number) {
    this.pos = new Float64Array(period);
    this.neg = new Float64Array(period);
  }
  push(h: number, l: number, c: number, v: number): number {
    const i = ++this.i;
    const tp = (h + l + c) / 3.0;
    if (i === 0) {
      this.prevTp = tp;
      return NaN;
    }
    if (i > this.period) {
      this.posSum -= this.pos[this.idx]!;
      this.negSum -= this.neg[this.idx]!;
    }
    const d = tp - this.prevTp;
    this.prevTp = tp;
    const mf = tp * v;
    if (d < 0) {
      this.neg[this.idx] = mf;
      this.negSum += mf;
      this.pos[this.idx] = 0.0;
    } else if (d > 0) {
      this.pos[this.idx] = mf;
      this.posSum += mf;
      this.neg[this.idx] = 0.0;
    } else {
      this.pos[this.idx] = 0.0;
      this.neg[this.idx] = 0.0;
    }
    this.idx = this.idx + 1 === this.period ? 0 : this.idx + 1;
    if (i < this.period) return NaN;
    const t = this.posSum + this.negSum;
    return t < 1.0 ? 0.0 : 100.0 * (this.posSum / t);
  }
  reset(): void {
    this.idx = 0;
    this.i = -1;
    this.prevTp = this.posSum = this.negSum = 0;
    this.pos.fill(0);
    this.neg.fill(0);
  }
}

export function mfiBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  period = 14,
  into?: Float64Array,
): Float64Array {
  requirePeriod('MFI', 'period', period, 2);
  const n = close.length;
  const out = outputColumn(n, period, into);
  if (n === 0) return out;
  // MfiState inlined (same operations) with local rings.
  const pos = new Float64Array(period);
  const neg = new Float64Array(period);
  let idx = 0;
  let posSum = 0;
  let negSum = 0;
  let prevTp = (high[0]! + low[0]! + close[0]!) / 3.0;
  for (let i = 1; i < n; i++) {
    if (i > period) {
      posSum -= pos[idx]!;
      negSum -= neg[idx]!;
    }
    const tp = (high[i]! + low[i]! + close[i]!) / 3.0;
    const d = tp - prevTp;
    prevTp = tp;
    const mf = tp * volume[i]!;
    // Branch-free (random up/down moves mispredict branches): the flows are ≥ 0, so adding 0 to the
    // sum that does not move leaves it bit-identical to MfiState's if/else.
    const mfNeg = d < 0 ? mf : 0.0;
    const mfPos = d > 0 ? mf : 0.0;
    neg[idx] = mfNeg;
    pos[idx] = mfPos;
    negSum += mfNeg;
    posSum += mfPos;
    idx = idx + 1 === period ? 0 : idx + 1;
    if (i < period) continue;
    const t = posSum + negSum;
    out[i] = t < 1.0 ? 0.0 : 100.0 * (posSum / t);
  }
  return out;
}

export class MFI extends IndicatorBase {
  readonly name: string;
  private readonly s: MfiState;
  constructor(readonly period = 14) {
    super(['mfi'], requirePeriod('MFI', 'period', period, 2) + 1);
    this.name = `MFI(${period})`;
    this.s = new MfiState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.high, b.low, b.close, b.volume);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ VWAP
/** Session-anchored VWAP of the typical price; restarts when `sessionOf(ts)` changes (NY date by default). */
export class VwapState {
  private session = NaN;
  private pv = 0;
  private v = 0;
  constructor(readonly sessionOf: SessionKeyFn = newYorkDayNumber) {}
  push(ts: number, h: number, l: number, c: number, v: number): number {
    const s = this.sessionOf(ts);
    if (s !== this.session) {
      this.session = s;
      this.pv = 0;
      this.v = 0;
    }
    const tp = (h + l + c) / 3;
    this.pv += tp * v;
    this.v += v;
    return this.v > 0 ? this.pv / this.v : tp;
  }
  reset(): void {
    this.session = NaN;
    this.pv = this.v = 0;
  }
}

export function vwapBatch(
  ts: Float64Array,
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  sessionOf: SessionKeyFn = newYorkDayNumber,
): Float64Array {
  const s = new VwapState(sessionOf);
  const out = new Float64Array(close.length);
  for (let i = 0; i < close.length; i++) out[i] = s.push(ts[i]!, high[i]!, low[i]!, close[i]!, volume[i]!);
  return out;
}

export class VWAP extends IndicatorBase {
  readonly name = 'VWAP(session)';
  private readonly s: VwapState;
  constructor(sessionOf: SessionKeyFn = newYorkDayNumber) {
    super(['vwap'], 1);
    this.s = new VwapState(sessionOf);
  }
  protected step(b: IndicatorInput): void {
    this.outputs[0] = this.s.push(b.ts, b.high, b.low, b.close, b.volume);
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ relative volume
/**
 * Volume over the mean volume of the same New York minute-of-day in the previous `days` observations of
 * that minute (the current bar excluded). NaN until that minute has `days` observations.
 */
export class RelVolState {
  private readonly slots = new Map<number, RingBuffer>();
  constructor(
    readonly days: number,
    readonly slotOf: (ts: number) => number = newYorkMinuteOfDay,
  ) {}
  push(ts: number, v: number): number {
    const key = this.slotOf(ts);
    let ring = this.slots.get(key);
    if (!ring) this.slots.set(key, (ring = new RingBuffer(this.days)));
    let out = NaN;
    if (ring.length === this.days) {
      let s = 0;
      for (let k = this.days - 1; k >= 0; k--) s += ring.ago(k);
      const mean = s / this.days;
      out = mean > 0 ? v / mean : 0;
    }
    ring.push(v);
    return out;
  }
  reset(): void {
    this.slots.clear();
  }
}

export function relativeVolumeBatch(
  ts: Float64Array,
  volume: Float64Array,
  days = 20,
  slotOf: (ts: number) => number = newYorkMinuteOfDay,
): Float64Array {
  requirePeriod('RelativeVolume', 'days', days);
  const s = new RelVolState(days, slotOf);
  const out = new Float64Array(volume.length);
  for (let i = 0; i < volume.length; i++) out[i] = s.push(ts[i]!, volume[i]!);
  return out;
}

export class RelativeVolume extends IndicatorBase {
  readonly name: string;
  private readonly s: RelVolState;
  constructor(
    readonly days = 20,
    slotOf: (ts: number) => number = newYorkMinuteOfDay,
  ) {
    super(['relVolume'], requirePeriod('RelativeVolume', 'days', days) + 1);
    this.name = `RelativeVolume(${days})`;
    this.s = new RelVolState(days, slotOf);
  }
  /** Ready once the current minute-of-day has a full history (not a fixed sample count). */
  override get isReady(): boolean {
    return !Number.isNaN(this.outputs[0]!);
  }
  protected step(b: IndicatorInput): void {
    this.outputs[0] = this.s.push(b.ts, b.volume);
  }
  protected clear(): void {
    this.s.reset();
  }
}
