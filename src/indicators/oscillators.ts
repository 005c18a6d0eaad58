/** Momentum oscillators with TA-Lib definitions: RSI, MACD, ROC, MOM, WILLR, STOCH, STOCHF, STOCHRSI, CCI. */
import {
  IndicatorBase,
  RingBuffer,
  TA_EPSILON as core_TA_EPSILON,
  nanArray,
  outputColumn,
  perToK,
  requirePeriod,
  taIsZero as core_taIsZero,
  type IndicatorInput,
} from './core';
import { EmaState, ExtremeState, SmaState, windowExtreme } from './primitives';

// Imported bindings compile to getter calls on the module object under CommonJS; hot loops use these
// file-local copies instead (same values, same functions).
const taIsZero = core_taIsZero;
const TA_EPSILON = core_TA_EPSILON;

// ------------------------------------------------------------------------------------------ RSI
/** Wilder's RSI: gains/losses averaged over the first `period` changes, then Wilder smoothing. */
export function rsiBatch(x: Float64Array, period: number, into?: Float64Array): Float64Array {
  requirePeriod('RSI', 'period', period, 2);
  const n = x.length;
  const out = outputColumn(n, period, into);
  if (n <= period) return out;
  let prevGain = 0;
  let prevLoss = 0;
  let prevValue = x[0]!;
  for (let i = 1; i <= period; i++) {
    const v = x[i]!;
    const d = v - prevValue;
    prevValue = v;
    if (d < 0) prevLoss -= d;
    else prevGain += d;
  }
  prevLoss /= period;
  prevGain /= period;
  let t = prevGain + prevLoss;
  out[period] = taIsZero(t) ? 0.0 : 100.0 * (prevGain / t);
  const pm1 = period - 1;
  for (let i = period + 1; i < n; i++) {
    const v = x[i]!;
    const d = v - prevValue;
    prevValue = v;
    prevLoss *= pm1;
    prevGain *= pm1;
    // Branch-free (random up/down moves mispredict): subtracting/adding 0 leaves the sums bit-identical.
    prevLoss -= d < 0 ? d : 0;
    prevGain += d < 0 ? 0 : d;
    prevLoss /= period;
    prevGain /= period;
    t = prevGain + prevLoss;
    out[i] = -TA_EPSILON < t && t < TA_EPSILON ? 0.0 : 100.0 * (prevGain / t);
  }
  return out;
}

/** Streaming RSI over raw numbers (shared by RSI and STOCHRSI). */
export class RsiState {
  private n = 0;
  private prevValue = 0;
  private prevGain = 0;
  private prevLoss = 0;
  constructor(readonly period: number) {}
  push(v: number): number {
    const p = this.period;
    const i = this.n++;
    if (i === 0) {
      this.prevValue = v;
      return NaN;
    }
    const d = v - this.prevValue;
    this.prevValue = v;
    if (i > p) {
      this.prevLoss *= p - 1;
      this.prevGain *= p - 1;
    }
    if (d < 0) this.prevLoss -= d;
    else this.prevGain += d;
    if (i < p) return NaN;
    this.prevLoss /= p;
    this.prevGain /= p;
    const t = this.prevGain + this.prevLoss;
    return taIsZero(t) ? 0.0 : 100.0 * (this.prevGain / t);
  }
  reset(): void {
    this.n = 0;
    this.prevValue = this.prevGain = this.prevLoss = 0;
  }
}

export class RSI extends IndicatorBase {
  readonly name: string;
  private readonly s: RsiState;
  constructor(readonly period = 14) {
    super(['rsi'], requirePeriod('RSI', 'period', period, 2) + 1);
    this.name = `RSI(${period})`;
    this.s = new RsiState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.close);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ MACD
/**
 * TA-Lib MACD: both EMAs start at index slow−1, so the fast EMA is seeded with the SMA of the `fast`
 * values ending there (not at index fast−1); the signal EMA runs on the MACD line from that index.
 */
export function macdBatch(
  x: Float64Array,
  fast = 12,
  slow = 26,
  signal = 9,
  into?: readonly [Float64Array, Float64Array, Float64Array],
): [Float64Array, Float64Array, Float64Array] {
  requirePeriod('MACD', 'fast', fast, 2);
  requirePeriod('MACD', 'slow', slow, 2);
  requirePeriod('MACD', 'signal', signal, 1);
  if (slow < fast) [fast, slow] = [slow, fast];
  const n = x.length;
  const lookback = slow - 1 + signal - 1;
  const macd = outputColumn(n, lookback, into?.[0]);
  const sig = outputColumn(n, lookback, into?.[1]);
  const hist = outputColumn(n, lookback, into?.[2]);
  if (n > slow - 1) macdLoop(x, fast, slow, signal, macd, sig, hist);
  return [macd, sig, hist];
}

/**
 * macdBatch's loop (n ≥ slow, fast ≤ slow).
 * (The loop is a function of its own: V8 deoptimized a kernel at its `return [a, b, c]` on every call
 * when the two shared a function, and re-entered the loop through on-stack replacement each time.)
 */
function macdLoop(
  x: Float64Array,
  fast: number,
  slow: number,
  signal: number,
  macd: Float64Array,
  sig: Float64Array,
  hist: Float64Array,
): void {
  const n = x.length;
  const start = slow - 1;
  const k1 = perToK(slow);
  const k2 = perToK(fast);
  const k3 = perToK(signal);
  let s = 0;
  for (let i = 0; i < slow; i++) s += x[i]!;
  let slowEma = s / slow;
  let f = 0;
  for (let i = slow - fast; i < slow; i++) f += x[i]!;
  let fastEma = f / fast;
  let line = fastEma - slowEma;
  let sigSum = line;
  let sigEma = NaN;
  const firstOut = start + signal - 1;
  if (signal === 1) sigEma = sigSum;
  if (firstOut === start) {
    macd[start] = line;
    sig[start] = sigEma;
    hist[start] = line - sigEma;
  }
  for (let i = slow; i < n; i++) {
    const v = x[i]!;
    slowEma = (v - slowEma) * k1 + slowEma;
    fastEma = (v - fastEma) * k2 + fastEma;
    line = fastEma - slowEma;
    if (i < firstOut) {
      sigSum += line;
      continue;
    }
    if (i === firstOut) {
      sigSum += line;
      sigEma = sigSum / signal;
    } else {
      sigEma = (line - sigEma) * k3 + sigEma;
    }
    macd[i] = line;
    sig[i] = sigEma;
    hist[i] = line - sigEma;
  }
}

export class MACD extends IndicatorBase {
  readonly name: string;
  private readonly slowE: EmaState;
  private readonly fastE: EmaState;
  private readonly sigE: EmaState;
  readonly fast: number;
  readonly slow: number;
  constructor(
    fast = 12,
    slow = 26,
    readonly signal = 9,
  ) {
    requirePeriod('MACD', 'fast', fast, 2);
    requirePeriod('MACD', 'slow', slow, 2);
    requirePeriod('MACD', 'signal', signal, 1);
    if (slow < fast) [fast, slow] = [slow, fast];
    super(['macd', 'signal', 'hist'], slow - 1 + signal);
    this.fast = fast;
    this.slow = slow;
    this.name = `MACD(${fast},${slow},${signal})`;
    this.slowE = new EmaState(slow);
    this.fastE = new EmaState(fast);
    this.sigE = new EmaState(signal);
  }
  protected step(b: IndicatorInput, i: number): void {
    const s = this.slowE.push(b.close);
    // The fast EMA only sees data from index slow−fast, so its SMA seed lands at index slow−1.
    if (i < this.slow - this.fast) return;
    const f = this.fastE.push(b.close);
    if (Number.isNaN(s)) return;
    const line = f - s;
    const sg = this.sigE.push(line);
    if (Number.isNaN(sg)) return;
    this.outputs[0] = line;
    this.outputs[1] = sg;
    this.outputs[2] = line - sg;
  }
  protected clear(): void {
    this.slowE.reset();
    this.fastE.reset();
    this.sigE.reset();
  }
}

// ------------------------------------------------------------------------------------------ ROC / MOM
export function rocBatch(x: Float64Array, period = 10, into?: Float64Array): Float64Array {
  requirePeriod('ROC', 'period', period);
  const out = outputColumn(x.length, period, into);
  for (let i = period; i < x.length; i++) {
    const prev = x[i - period]!;
    out[i] = prev !== 0.0 ? (x[i]! / prev - 1.0) * 100.0 : 0.0;
  }
  return out;
}

/** TA-Lib's ROCR: price / price `period` bars ago (0 when that price is 0). */
export function rocrBatch(x: Float64Array, period = 10, into?: Float64Array): Float64Array {
  requirePeriod('ROCR', 'period', period);
  const out = outputColumn(x.length, period, into);
  for (let i = period; i < x.length; i++) {
    const prev = x[i - period]!;
    out[i] = prev !== 0.0 ? x[i]! / prev : 0.0;
  }
  return out;
}

export function momBatch(x: Float64Array, period = 10): Float64Array {
  requirePeriod('MOM', 'period', period);
  const out = nanArray(x.length);
  for (let i = period; i < x.length; i++) out[i] = x[i]! - x[i - period]!;
  return out;
}

abstract class LagIndicator extends IndicatorBase {
  private readonly ring: RingBuffer;
  constructor(
    name: string,
    readonly period: number,
  ) {
    super([name], requirePeriod(name.toUpperCase(), 'period', period) + 1);
    this.ring = new RingBuffer(period + 1);
  }
  protected step(b: IndicatorInput, i: number): void {
    this.ring.push(b.close);
    if (i >= this.period) this.outputs[0] = this.compute(b.close, this.ring.ago(this.period));
  }
  protected abstract compute(now: number, then: number): number;
  protected clear(): void {
    this.ring.clear();
  }
}

export class ROC extends LagIndicator {
  readonly name: string;
  constructor(period = 10) {
    super('roc', period);
    this.name = `ROC(${period})`;
  }
  protected compute(now: number, then: number): number {
    return then !== 0.0 ? (now / then - 1.0) * 100.0 : 0.0;
  }
}

export class ROCR extends LagIndicator {
  readonly name: string;
  constructor(period = 10) {
    super('rocr', period);
    this.name = `ROCR(${period})`;
  }
  protected compute(now: number, then: number): number {
    return then !== 0.0 ? now / then : 0.0;
  }
}

export class MOM extends LagIndicator {
  readonly name: string;
  constructor(period = 10) {
    super('mom', period);
    this.name = `MOM(${period})`;
  }
  protected compute(now: number, then: number): number {
    return now - then;
  }
}

// ------------------------------------------------------------------------------------------ WILLR
export function willrBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
  into?: Float64Array,
): Float64Array {
  requirePeriod('WILLR', 'period', period, 2);
  const n = close.length;
  const out = outputColumn(n, period - 1, into);
  // TA-Lib's two running extremes, inline (rescan only when the extreme leaves the window).
  let hiIdx = -1;
  let loIdx = -1;
  let hi = 0;
  let lo = 0;
  for (let i = period - 1; i < n; i++) {
    const trailing = i - period + 1;
    const l = low[i]!;
    if (loIdx < trailing) {
      loIdx = trailing;
      lo = low[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        const v = low[j]!;
        if (v < lo) {
          loIdx = j;
          lo = v;
        }
      }
    } else if (l <= lo) {
      loIdx = i;
      lo = l;
    }
    const h = high[i]!;
    if (hiIdx < trailing) {
      hiIdx = trailing;
      hi = high[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        const v = high[j]!;
        if (v > hi) {
          hiIdx = j;
          hi = v;
        }
      }
    } else if (h >= hi) {
      hiIdx = i;
      hi = h;
    }
    const diff = (hi - lo) / -100.0;
    out[i] = diff !== 0.0 ? (hi - close[i]!) / diff : 0.0;
  }
  return out;
}

export class WILLR extends IndicatorBase {
  readonly name: string;
  private readonly hi: ExtremeState;
  private readonly lo: ExtremeState;
  constructor(readonly period = 14) {
    super(['willr'], requirePeriod('WILLR', 'period', period, 2));
    this.name = `WILLR(${period})`;
    this.hi = new ExtremeState(period, true);
    this.lo = new ExtremeState(period, false);
  }
  protected step(b: IndicatorInput): void {
    const l = this.lo.push(b.low);
    const h = this.hi.push(b.high);
    if (Number.isNaN(h)) return;
    const diff = (h - l) / -100.0;
    this.outputs[0] = diff !== 0.0 ? (h - b.close) / diff : 0.0;
  }
  protected clear(): void {
    this.hi.reset();
    this.lo.reset();
  }
}

// ------------------------------------------------------------------------------------------ STOCH
function fastK(h: number, l: number, c: number): number {
  const diff = (h - l) / 100.0;
  return diff !== 0.0 ? (c - l) / diff : 0.0;
}

/** Slow stochastic: %K over `fastK` bars, slowK = SMA(%K, slowK), slowD = SMA(slowK, slowD). */
export function stochBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  fastKPeriod = 5,
  slowKPeriod = 3,
  slowDPeriod = 3,
  into?: readonly [Float64Array, Float64Array],
): [Float64Array, Float64Array] {
  requirePeriod('STOCH', 'fastK', fastKPeriod);
  requirePeriod('STOCH', 'slowK', slowKPeriod);
  requirePeriod('STOCH', 'slowD', slowDPeriod);
  const n = close.length;
  const lookback = fastKPeriod - 1 + slowKPeriod - 1 + slowDPeriod - 1;
  const k = outputColumn(n, lookback, into?.[0]);
  const d = outputColumn(n, lookback, into?.[1]);
  stochLoop(high, low, close, fastKPeriod, slowKPeriod, slowDPeriod, k, d);
  return [k, d];
}

/**
 * stochBatch's loop.
 * (The loop is a function of its own: V8 deoptimized a kernel at its `return [a, b, c]` on every call
 * when the two shared a function, and re-entered the loop through on-stack replacement each time.)
 */
function stochLoop(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  fastKPeriod: number,
  slowKPeriod: number,
  slowDPeriod: number,
  k: Float64Array,
  d: Float64Array,
): void {
  const n = close.length;
  // Windows of the two SMAs as small rings; running sums exactly as SmaState keeps them.
  const rk = new Float64Array(slowKPeriod);
  const rd = new Float64Array(slowDPeriod);
  let nk = 0;
  let nd = 0;
  let tk = 0;
  let td = 0;
  let hiIdx = -1;
  let loIdx = -1;
  let hi = 0;
  let lo = 0;
  for (let i = fastKPeriod - 1; i < n; i++) {
    const trailing = i - fastKPeriod + 1;
    const h = high[i]!;
    if (hiIdx < trailing) {
      hiIdx = trailing;
      hi = high[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        const v = high[j]!;
        if (v > hi) {
          hiIdx = j;
          hi = v;
        }
      }
    } else if (h >= hi) {
      hiIdx = i;
      hi = h;
    }
    const l = low[i]!;
    if (loIdx < trailing) {
      loIdx = trailing;
      lo = low[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        const v = low[j]!;
        if (v < lo) {
          loIdx = j;
          lo = v;
        }
      }
    } else if (l <= lo) {
      loIdx = i;
      lo = l;
    }
    const fk = fastK(hi, lo, close[i]!);
    rk[nk % slowKPeriod] = fk;
    tk += fk;
    nk++;
    if (nk < slowKPeriod) continue;
    const sk = tk / slowKPeriod;
    tk -= rk[(nk - slowKPeriod) % slowKPeriod]!;
    rd[nd % slowDPeriod] = sk;
    td += sk;
    nd++;
    if (nd < slowDPeriod) continue;
    const dd = td / slowDPeriod;
    td -= rd[(nd - slowDPeriod) % slowDPeriod]!;
    k[i] = sk;
    d[i] = dd;
  }
}

export class STOCH extends IndicatorBase {
  readonly name: string;
  private readonly hi: ExtremeState;
  private readonly lo: ExtremeState;
  private readonly sk: SmaState;
  private readonly sd: SmaState;
  constructor(
    readonly fastKPeriod = 5,
    readonly slowKPeriod = 3,
    readonly slowDPeriod = 3,
  ) {
    super(['slowK', 'slowD'], requirePeriod('STOCH', 'fastK', fastKPeriod) + slowKPeriod + slowDPeriod - 2);
    this.name = `STOCH(${fastKPeriod},${slowKPeriod},${slowDPeriod})`;
    this.hi = new ExtremeState(fastKPeriod, true);
    this.lo = new ExtremeState(fastKPeriod, false);
    this.sk = new SmaState(slowKPeriod);
    this.sd = new SmaState(slowDPeriod);
  }
  protected step(b: IndicatorInput): void {
    const h = this.hi.push(b.high);
    const l = this.lo.push(b.low);
    if (Number.isNaN(h)) return;
    const s = this.sk.push(fastK(h, l, b.close));
    if (Number.isNaN(s)) return;
    const d = this.sd.push(s);
    if (Number.isNaN(d)) return;
    this.outputs[0] = s;
    this.outputs[1] = d;
  }
  protected clear(): void {
    this.hi.reset();
    this.lo.reset();
    this.sk.reset();
    this.sd.reset();
  }
}

/** Fast stochastic: fastK = %K, fastD = SMA(%K, fastD). */
export function stochfBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  fastKPeriod = 5,
  fastDPeriod = 3,
): [Float64Array, Float64Array] {
  requirePeriod('STOCHF', 'fastK', fastKPeriod);
  const n = close.length;
  const hh = nanArray(n);
  const ll = nanArray(n);
  windowExtreme(high, fastKPeriod, true, hh);
  windowExtreme(low, fastKPeriod, false, ll);
  const k = nanArray(n);
  const d = nanArray(n);
  const sd = new SmaState(fastDPeriod);
  for (let i = fastKPeriod - 1; i < n; i++) {
    const kk = fastK(hh[i]!, ll[i]!, close[i]!);
    const dd = sd.push(kk);
    if (Number.isNaN(dd)) continue;
    k[i] = kk;
    d[i] = dd;
  }
  return [k, d];
}

export class STOCHF extends IndicatorBase {
  readonly name: string;
  private readonly hi: ExtremeState;
  private readonly lo: ExtremeState;
  private readonly sd: SmaState;
  constructor(
    readonly fastKPeriod = 5,
    readonly fastDPeriod = 3,
  ) {
    super(['fastK', 'fastD'], requirePeriod('STOCHF', 'fastK', fastKPeriod) + fastDPeriod - 1);
    this.name = `STOCHF(${fastKPeriod},${fastDPeriod})`;
    this.hi = new ExtremeState(fastKPeriod, true);
    this.lo = new ExtremeState(fastKPeriod, false);
    this.sd = new SmaState(fastDPeriod);
  }
  protected step(b: IndicatorInput): void {
    const h = this.hi.push(b.high);
    const l = this.lo.push(b.low);
    if (Number.isNaN(h)) return;
    const k = fastK(h, l, b.close);
    const d = this.sd.push(k);
    if (Number.isNaN(d)) return;
    this.outputs[0] = k;
    this.outputs[1] = d;
  }
  protected clear(): void {
    this.hi.reset();
    this.lo.reset();
    this.sd.reset();
  }
}

// ------------------------------------------------------------------------------------------ STOCHRSI
/** TA-Lib STOCHRSI: a fast stochastic of the RSI series (high = low = close = RSI). */
export class StochRsiState {
  private readonly rsi: RsiState;
  private readonly hi: ExtremeState;
  private readonly lo: ExtremeState;
  private readonly sd: SmaState;
  constructor(period: number, fastKPeriod: number, fastDPeriod: number) {
    this.rsi = new RsiState(period);
    this.hi = new ExtremeState(fastKPeriod, true);
    this.lo = new ExtremeState(fastKPeriod, false);
    this.sd = new SmaState(fastDPeriod);
  }
  /** Returns true when `out` got new values. */
  push(x: number, out: Float64Array): boolean {
    const r = this.rsi.push(x);
    if (Number.isNaN(r)) return false;
    const h = this.hi.push(r);
    const l = this.lo.push(r);
    if (Number.isNaN(h)) return false;
    const k = fastK(h, l, r);
    const d = this.sd.push(k);
    if (Number.isNaN(d)) return false;
    out[0] = k;
    out[1] = d;
    return true;
  }
  reset(): void {
    this.rsi.reset();
    this.hi.reset();
    this.lo.reset();
    this.sd.reset();
  }
}

export function stochRsiBatch(
  x: Float64Array,
  period = 14,
  fastKPeriod = 5,
  fastDPeriod = 3,
): [Float64Array, Float64Array] {
  const s = new StochRsiState(period, fastKPeriod, fastDPeriod);
  const n = x.length;
  const k = nanArray(n);
  const d = nanArray(n);
  const tmp = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    if (s.push(x[i]!, tmp)) {
      k[i] = tmp[0]!;
      d[i] = tmp[1]!;
    }
  }
  return [k, d];
}

export class STOCHRSI extends IndicatorBase {
  readonly name: string;
  private readonly s: StochRsiState;
  constructor(
    readonly period = 14,
    readonly fastKPeriod = 5,
    readonly fastDPeriod = 3,
  ) {
    super(['fastK', 'fastD'], requirePeriod('STOCHRSI', 'period', period, 2) + fastKPeriod + fastDPeriod - 1);
    this.name = `STOCHRSI(${period},${fastKPeriod},${fastDPeriod})`;
    this.s = new StochRsiState(period, fastKPeriod, fastDPeriod);
  }
  protected step(b: IndicatorInput): void {
    this.s.push(b.close, this.outputs);
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ CCI
/**
 * TA-Lib CCI, (tp − mean) / (0.015 · mean deviation) over `period` typical prices tp = (h + l + c)/3.
 *
 * The mean is TA-Lib's to the bit: TA-Lib keeps the window in a circular buffer and sums it in
 * buffer-slot order (not time order) every bar; we add in the same order, because where tp is close to
 * the mean (flat windows) the output is a ratio of two rounding-sized numbers and any other order gives
 * a different value. The mean deviation Σ|tp − mean| has no such cancellation (a sum of non-negative
 * terms), so we add it in our own order, oldest to newest with alternate terms in two sums, and divide
 * once: (tp − mean)·(period/0.015) / Σ|tp − mean|. Both differ from TA-Lib by rounding only.
 */
export class CciState {
  private readonly circ: Float64Array;
  private idx = 0;
  private n = 0;
  private readonly scale: number;
  constructor(readonly period: number) {
    this.circ = new Float64Array(period);
    this.scale = period / 0.015;
  }
  push(h: number, l: number, c: number): number {
    const p = this.period;
    const circ = this.circ;
    const last = (h + l + c) / 3;
    circ[this.idx] = last;
    this.n++;
    let out = NaN;
    if (this.n >= p) {
      let s = 0;
      for (let j = 0; j < p; j++) s += circ[j]!;
      const avg = s / p;
      // Oldest first: the oldest value sits in the slot after the newest one.
      let d0 = 0;
      let d1 = 0;
      let j = this.idx + 1 === p ? 0 : this.idx + 1;
      for (let q = 0; q < p; q++) {
        const d = Math.abs(circ[j]! - avg);
        if ((q & 1) === 0) d0 += d;
        else d1 += d;
        j = j + 1 === p ? 0 : j + 1;
      }
      const dev = d0 + d1;
      const t = last - avg;
      out = t !== 0.0 && dev !== 0.0 ? (t * this.scale) / dev : 0.0;
    }
    this.idx = this.idx + 1 === p ? 0 : this.idx + 1;
    return out;
  }
  reset(): void {
    this.idx = 0;
    this.n = 0;
    this.circ.fill(0);
  }
}

/** Bars of typical prices held at once by cciBatch (plus the period − 1 before them). */
const CCI_CHUNK = 4096;

/**
 * CciState's arithmetic over arrays. Typical prices go into a chunk buffer in time order, so bar k's
 * window is buf[k … k+period−1]. In CciState's buffer-slot order the window is: the bars of the current
 * slot cycle (from slot 0 up to this bar, whose running sum `pre` carries over from bar to bar), then
 * the oldest values of the window (the previous cycle's slots after this bar's slot) — that is, `pre`
 * followed by buf[k … g−1] where g is where the current cycle starts. Mean deviation: two sums over
 * alternate offsets, oldest first.
 *
 * Four consecutive bars of one slot cycle are done together: their windows overlap in all but three
 * values, so each shared value is loaded once for four sums (the additions per bar are unchanged, and
 * in the same order). Bars that do not fit a group of four go one by one.
 */
export function cciBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
  into?: Float64Array,
): Float64Array {
  requirePeriod('CCI', 'period', period, 2);
  const p = period;
  const n = close.length;
  const out = outputColumn(n, p - 1, into);
  const scale = p / 0.015;
  const buf = new Float64Array(CCI_CHUNK + p);
  let pre = 0;
  let idx = 0;
  const head = Math.min(n, p - 1);
  for (let i = 0; i < head; i++) {
    const v = (high[i]! + low[i]! + close[i]!) / 3;
    buf[i] = v;
    pre = idx === 0 ? 0 + v : pre + v;
    idx++;
  }
  // Offset period−1 (the newest value of a window) is odd or even: it decides which of the two sums
  // the last three values of a group of four go to.
  const lastOdd = ((p - 1) & 1) === 1;
  let i = p - 1;
  while (i < n) {
    // Bars i … i+m−1; bar i+k's window is buf[k … k+p−1].
    const m = Math.min(CCI_CHUNK, n - i);
    for (let k = 0; k < m; k++) buf[p - 1 + k] = (high[i + k]! + low[i + k]! + close[i + k]!) / 3;
    let k = 0;
    while (k < m) {
      if (idx + 4 <= p && k + 4 <= m) {
        // Bars A, B, C, D = k … k+3, all in one slot cycle, which started at buf[g].
        const h0 = buf[k]!;
        const h1 = buf[k + 1]!;
        const h2 = buf[k + 2]!;
        const lA = buf[k + p - 1]!;
        const lB = buf[k + p]!;
        const lC = buf[k + p + 1]!;
        const lD = buf[k + p + 2]!;
        const pA = idx === 0 ? 0 + lA : pre + lA;
        const pB = pA + lB;
        const pC = pB + lC;
        const pD = pC + lD;
        let sA = pA + h0;
        sA += h1;
        sA += h2;
        let sB = pB + h1;
        sB += h2;
        let sC = pC + h2;
        let sD = pD;
        const g = k + p - 1 - idx;
        for (let j = k + 3; j < g; j++) {
          const v = buf[j]!;
          sA += v;
          sB += v;
          sC += v;
          sD += v;
        }
        const mA = sA / p;
        const mB = sB / p;
        const mC = sC / p;
        const mD = sD / p;
        // Deviation sums Xe/Xo over even/odd offsets of each window (offset = j − first index).
        let ae = Math.abs(h0 - mA);
        let ao = Math.abs(h1 - mA);
        ae += Math.abs(h2 - mA);
        let be = Math.abs(h1 - mB);
        let bo = Math.abs(h2 - mB);
        let ce = Math.abs(h2 - mC);
        let co = 0;
        let de = 0;
        let dO = 0;
        // Shared values buf[k+3 … k+p−1]: offset 3 in A, 2 in B, 1 in C, 0 in D at j = k+3.
        let j = k + 3;
        const e = k + p;
        for (; j + 2 <= e; j += 2) {
          const v0 = buf[j]!;
          const v1 = buf[j + 1]!;
          ao += Math.abs(v0 - mA);
          be += Math.abs(v0 - mB);
          co += Math.abs(v0 - mC);
          de += Math.abs(v0 - mD);
          ae += Math.abs(v1 - mA);
          bo += Math.abs(v1 - mB);
          ce += Math.abs(v1 - mC);
          dO += Math.abs(v1 - mD);
        }
        if (j < e) {
          const v = buf[j]!;
          ao += Math.abs(v - mA);
          be += Math.abs(v - mB);
          co += Math.abs(v - mC);
          de += Math.abs(v - mD);
        }
        // The newest values of B, C, D: lB at offsets p−1 (B), p−2 (C), p−3 (D); lC at p−1 (C),
        // p−2 (D); lD at p−1 (D).
        if (lastOdd) {
          bo += Math.abs(lB - mB);
          ce += Math.abs(lB - mC);
          dO += Math.abs(lB - mD);
          co += Math.abs(lC - mC);
          de += Math.abs(lC - mD);
          dO += Math.abs(lD - mD);
        } else {
          be += Math.abs(lB - mB);
          co += Math.abs(lB - mC);
          de += Math.abs(lB - mD);
          ce += Math.abs(lC - mC);
          dO += Math.abs(lC - mD);
          de += Math.abs(lD - mD);
        }
        const devA = ae + ao;
        const devB = be + bo;
        const devC = ce + co;
        const devD = de + dO;
        const tA = lA - mA;
        const tB = lB - mB;
        const tC = lC - mC;
        const tD = lD - mD;
        out[i + k] = tA !== 0.0 && devA !== 0.0 ? (tA * scale) / devA : 0.0;
        out[i + k + 1] = tB !== 0.0 && devB !== 0.0 ? (tB * scale) / devB : 0.0;
        out[i + k + 2] = tC !== 0.0 && devC !== 0.0 ? (tC * scale) / devC : 0.0;
        out[i + k + 3] = tD !== 0.0 && devD !== 0.0 ? (tD * scale) / devD : 0.0;
        pre = pD;
        idx += 4;
        if (idx === p) idx = 0;
        k += 4;
      } else {
        const last = buf[k + p - 1]!;
        pre = idx === 0 ? 0 + last : pre + last;
        let s = pre;
        const g = k + p - 1 - idx;
        for (let j = k; j < g; j++) s += buf[j]!;
        const avg = s / p;
        let d0 = 0;
        let d1 = 0;
        let j = k;
        const e = k + p;
        for (; j + 2 <= e; j += 2) {
          d0 += Math.abs(buf[j]! - avg);
          d1 += Math.abs(buf[j + 1]! - avg);
        }
        if (j < e) d0 += Math.abs(buf[j]! - avg);
        const dev = d0 + d1;
        const t = last - avg;
        out[i + k] = t !== 0.0 && dev !== 0.0 ? (t * scale) / dev : 0.0;
        idx = idx + 1 === p ? 0 : idx + 1;
        k++;
      }
    }
    i += m;
    // The next chunk's first window starts with the last period−1 values of this one.
    buf.copyWithin(0, m, m + p - 1);
  }
  return out;
}

export class CCI extends IndicatorBase {
  readonly name: string;
  private readonly s: CciState;
  constructor(readonly period = 14) {
    super(['cci'], requirePeriod('CCI', 'period', period, 2));
    this.name = `CCI(${period})`;
    this.s = new CciState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.high, b.low, b.close);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}
