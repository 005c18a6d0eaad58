/**
 * Volatility and bands: ATR, NATR (TA-Lib), Bollinger Bands (TA-Lib SMA middle, exact per-window
 * variance — see docs/indicators.md), Keltner, Donchian, realized volatility (close-to-close, Parkinson,
 * Garman-Klass) and a rolling z-score.
 *
 * The window statistics recompute their sums per window, oldest sample first, in both the batch kernel
 * and the incremental class: exact (no drift over millions of bars) and bit-identical between the two.
 */
import {
  IndicatorBase,
  nanArray,
  outputColumn,
  requirePeriod,
  taIsZero as core_taIsZero,
  type IndicatorInput,
} from './core';
import { EmaState, ExtremeState, SmaState, windowExtreme } from './primitives';
import { trueRange } from './trend';

// Imported bindings compile to getter calls on the module object under CommonJS; hot loops use these
// file-local copies instead (same values, same functions).
const taIsZero = core_taIsZero;

// ------------------------------------------------------------------------------------------ ATR / NATR
/** Wilder's ATR: SMA of the first `period` true ranges (from bar 1), then (prev·(p−1) + TR)/p. */
export class AtrState {
  private i = -1;
  private prevClose = 0;
  private sum = 0;
  private atr = NaN;
  constructor(readonly period: number) {}
  push(h: number, l: number, c: number): number {
    const p = this.period;
    const i = ++this.i;
    if (i === 0) {
      this.prevClose = c;
      return NaN;
    }
    const tr = trueRange(h, l, this.prevClose);
    this.prevClose = c;
    if (i < p) {
      this.sum += tr;
      return NaN;
    }
    if (i === p) {
      this.sum += tr;
      this.atr = this.sum / p;
    } else {
      this.atr *= p - 1;
      this.atr += tr;
      this.atr /= p;
    }
    return this.atr;
  }
  reset(): void {
    this.i = -1;
    this.prevClose = this.sum = 0;
    this.atr = NaN;
  }
}

export function atrBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
  into?: Float64Array,
): Float64Array {
  requirePeriod('ATR', 'period', period, 2);
  const n = close.length;
  const out = outputColumn(n, period, into);
  if (n <= period) return out;
  let sum = 0;
  for (let i = 1; i <= period; i++) sum += trueRange(high[i]!, low[i]!, close[i - 1]!);
  let atr = sum / period;
  out[period] = atr;
  const pm1 = period - 1;
  for (let i = period + 1; i < n; i++) {
    const h = high[i]!;
    const l = low[i]!;
    const pc = close[i - 1]!;
    let tr = h - l;
    let t = Math.abs(h - pc);
    if (t > tr) tr = t;
    t = Math.abs(l - pc);
    if (t > tr) tr = t;
    atr *= pm1;
    atr += tr;
    atr /= period;
    out[i] = atr;
  }
  return out;
}

export class ATR extends IndicatorBase {
  readonly name: string;
  private readonly s: AtrState;
  constructor(readonly period = 14) {
    super(['atr'], requirePeriod('ATR', 'period', period, 2) + 1);
    this.name = `ATR(${period})`;
    this.s = new AtrState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.high, b.low, b.close);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

function natrOf(atr: number, close: number): number {
  return taIsZero(close) ? 0.0 : (atr / close) * 100.0;
}

export function natrBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
): Float64Array {
  const atr = atrBatch(high, low, close, period);
  for (let i = period; i < atr.length; i++) atr[i] = natrOf(atr[i]!, close[i]!);
  return atr;
}

export class NATR extends IndicatorBase {
  readonly name: string;
  private readonly s: AtrState;
  constructor(readonly period = 14) {
    super(['natr'], requirePeriod('NATR', 'period', period, 2) + 1);
    this.name = `NATR(${period})`;
    this.s = new AtrState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.high, b.low, b.close);
    if (!Number.isNaN(v)) this.outputs[0] = natrOf(v, b.close);
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ Bollinger
/**
 * Population standard deviation of the window, two-pass (mean first, then squared deviations). Each
 * pass adds the window oldest first into two sums, even and odd offsets, which bbandsBatch repeats
 * addition for addition while it does four windows at once.
 */
function exactStdDev(x: ArrayLike<number>, from: number, period: number): number {
  let se = 0;
  let so = 0;
  let j = 0;
  for (; j + 2 <= period; j += 2) {
    se += x[from + j]!;
    so += x[from + j + 1]!;
  }
  if (j < period) se += x[from + j]!;
  const mean = (se + so) / period;
  let ee = 0;
  let eo = 0;
  for (j = 0; j + 2 <= period; j += 2) {
    const d0 = x[from + j]! - mean;
    const d1 = x[from + j + 1]! - mean;
    ee += d0 * d0;
    eo += d1 * d1;
  }
  if (j < period) {
    const d0 = x[from + j]! - mean;
    ee += d0 * d0;
  }
  return Math.sqrt((ee + eo) / period);
}

/** Rolling population σ, exact per window (two-pass); NaN before the window is full. */
export function stdDevBatch(x: Float64Array, period: number): Float64Array {
  requirePeriod('STDDEV', 'period', period, 2);
  const out = nanArray(x.length);
  for (let i = period - 1; i < x.length; i++) out[i] = exactStdDev(x, i - period + 1, period);
  return out;
}

/** [upper, middle, lower]: middle = TA-Lib SMA, bands = middle ± k·σ with σ exact per window. */
export function bbandsBatch(
  x: Float64Array,
  period = 20,
  nbDevUp = 2,
  nbDevDn = 2,
  into?: readonly [Float64Array, Float64Array, Float64Array],
): [Float64Array, Float64Array, Float64Array] {
  requirePeriod('BBANDS', 'period', period, 2);
  const n = x.length;
  const upper = outputColumn(n, period - 1, into?.[0]);
  const middle = outputColumn(n, period - 1, into?.[1]);
  const lower = outputColumn(n, period - 1, into?.[2]);
  if (n >= period) bbandsLoop(x, period, nbDevUp, nbDevDn, upper, middle, lower);
  return [upper, middle, lower];
}

/**
 * bbandsBatch's loop (n ≥ period): the middle band is TA-Lib's running-sum SMA; σ is exactStdDev's
 * arithmetic, four consecutive windows at a time. Their windows share all but three values, so each
 * shared value is loaded once for four sums in each pass (the additions per window are exactStdDev's,
 * in the same order). (The loop is a function of its own: V8 deoptimized the kernel at its
 * `return [a, b, c]` on every call when the two shared a function.)
 */
function bbandsLoop(
  x: Float64Array,
  period: number,
  nbDevUp: number,
  nbDevDn: number,
  upper: Float64Array,
  middle: Float64Array,
  lower: Float64Array,
): void {
  const p = period;
  const n = x.length;
  let total = 0;
  for (let i = 0; i < p - 1; i++) total += x[i]!;
  // Offset p−1 (a window's newest value) is odd or even: it decides which of the two sums the last
  // three values of a group of four go to.
  const lastOdd = ((p - 1) & 1) === 1;
  // Bars that do not fill a group of four go first, one window at a time (before the long loop, so
  // that V8 has type feedback for everything it optimizes there).
  const singles = p >= 3 ? (n - p + 1) & 3 : n - p + 1;
  let i = p - 1;
  for (; i < p - 1 + singles; i++) {
    const from = i - p + 1;
    total += x[i]!;
    const mid = total / p;
    total -= x[from]!;
    const sd = exactStdDev(x, from, p);
    middle[i] = mid;
    upper[i] = mid + nbDevUp * sd;
    lower[i] = mid - nbDevDn * sd;
  }
  // Windows A, B, C, D of bars i … i+3 start at f … f+3; offsets are j − f, j − f − 1, … .
  for (; i + 3 < n; i += 4) {
    const f = i - p + 1;
    const h0 = x[f]!;
    const h1 = x[f + 1]!;
    const h2 = x[f + 2]!;
    const t0 = x[i + 1]!;
    const t1 = x[i + 2]!;
    const t2 = x[i + 3]!;
    const e = f + p;
    // Pass 1: sums of even (…e) and odd (…o) offsets.
    let ae = 0 + h0;
    let ao = 0 + h1;
    ae += h2;
    let be = 0 + h1;
    let bo = 0 + h2;
    let ce = 0 + h2;
    let co = 0;
    let de = 0;
    let dO = 0;
    let j = f + 3;
    for (; j + 2 <= e; j += 2) {
      const v0 = x[j]!;
      const v1 = x[j + 1]!;
      ao += v0;
      be += v0;
      co += v0;
      de += v0;
      ae += v1;
      bo += v1;
      ce += v1;
      dO += v1;
    }
    if (j < e) {
      const v = x[j]!;
      ao += v;
      be += v;
      co += v;
      de += v;
    }
    if (lastOdd) {
      bo += t0;
      ce += t0;
      dO += t0;
      co += t1;
      de += t1;
      dO += t2;
    } else {
      be += t0;
      co += t0;
      de += t0;
      ce += t1;
      dO += t1;
      de += t2;
    }
    const mA = (ae + ao) / p;
    const mB = (be + bo) / p;
    const mC = (ce + co) / p;
    const mD = (de + dO) / p;
    // Pass 2: squared deviations, the same split.
    let r = h0 - mA;
    ae = r * r;
    r = h1 - mA;
    ao = r * r;
    r = h2 - mA;
    ae += r * r;
    r = h1 - mB;
    be = r * r;
    r = h2 - mB;
    bo = r * r;
    r = h2 - mC;
    ce = r * r;
    co = 0;
    de = 0;
    dO = 0;
    for (j = f + 3; j + 2 <= e; j += 2) {
      const v0 = x[j]!;
      const v1 = x[j + 1]!;
      r = v0 - mA;
      ao += r * r;
      r = v0 - mB;
      be += r * r;
      r = v0 - mC;
      co += r * r;
      r = v0 - mD;
      de += r * r;
      r = v1 - mA;
      ae += r * r;
      r = v1 - mB;
      bo += r * r;
      r = v1 - mC;
      ce += r * r;
      r = v1 - mD;
      dO += r * r;
    }
    if (j < e) {
      const v = x[j]!;
      r = v - mA;
      ao += r * r;
      r = v - mB;
      be += r * r;
      r = v - mC;
      co += r * r;
      r = v - mD;
      de += r * r;
    }
    const rB0 = t0 - mB;
    const rC0 = t0 - mC;
    const rD0 = t0 - mD;
    const rC1 = t1 - mC;
    const rD1 = t1 - mD;
    const rD2 = t2 - mD;
    if (lastOdd) {
      bo += rB0 * rB0;
      ce += rC0 * rC0;
      dO += rD0 * rD0;
      co += rC1 * rC1;
      de += rD1 * rD1;
      dO += rD2 * rD2;
    } else {
      be += rB0 * rB0;
      co += rC0 * rC0;
      de += rD0 * rD0;
      ce += rC1 * rC1;
      dO += rD1 * rD1;
      de += rD2 * rD2;
    }
    const sA = Math.sqrt((ae + ao) / p);
    const sB = Math.sqrt((be + bo) / p);
    const sC = Math.sqrt((ce + co) / p);
    const sD = Math.sqrt((de + dO) / p);
    // The middle band: TA-Lib's running sum (add the new value, emit, subtract the one leaving).
    total += x[i]!;
    let mid = total / p;
    total -= h0;
    middle[i] = mid;
    upper[i] = mid + nbDevUp * sA;
    lower[i] = mid - nbDevDn * sA;
    total += t0;
    mid = total / p;
    total -= h1;
    middle[i + 1] = mid;
    upper[i + 1] = mid + nbDevUp * sB;
    lower[i + 1] = mid - nbDevDn * sB;
    total += t1;
    mid = total / p;
    total -= h2;
    middle[i + 2] = mid;
    upper[i + 2] = mid + nbDevUp * sC;
    lower[i + 2] = mid - nbDevDn * sC;
    total += t2;
    mid = total / p;
    total -= x[f + 3]!;
    middle[i + 3] = mid;
    upper[i + 3] = mid + nbDevUp * sD;
    lower[i + 3] = mid - nbDevDn * sD;
  }
}

/** The window as a plain array in time order, for the exact per-window statistics of the classes. */
class Window {
  readonly vals: Float64Array;
  private n = 0;
  constructor(readonly size: number) {
    this.vals = new Float64Array(size);
  }
  push(v: number): boolean {
    if (this.n < this.size) this.vals[this.n++] = v;
    else {
      this.vals.copyWithin(0, 1);
      this.vals[this.size - 1] = v;
    }
    return this.n === this.size;
  }
  reset(): void {
    this.n = 0;
  }
}

export class BBANDS extends IndicatorBase {
  readonly name: string;
  private readonly sma: SmaState;
  private readonly w: Window;
  constructor(
    readonly period = 20,
    readonly nbDevUp = 2,
    readonly nbDevDn = 2,
  ) {
    super(['upper', 'middle', 'lower'], requirePeriod('BBANDS', 'period', period, 2));
    this.name = `BBANDS(${period},${nbDevUp},${nbDevDn})`;
    this.sma = new SmaState(period);
    this.w = new Window(period);
  }
  protected step(b: IndicatorInput): void {
    const mid = this.sma.push(b.close);
    if (!this.w.push(b.close)) return;
    const sd = exactStdDev(this.w.vals, 0, this.period);
    this.outputs[0] = mid + this.nbDevUp * sd;
    this.outputs[1] = mid;
    this.outputs[2] = mid - this.nbDevDn * sd;
  }
  protected clear(): void {
    this.sma.reset();
    this.w.reset();
  }
}

// ------------------------------------------------------------------------------------------ Keltner
/** [upper, middle, lower]: middle = EMA(close, emaPeriod), bands = middle ± mult·ATR(atrPeriod). */
export function keltnerBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  emaPeriod = 20,
  atrPeriod = 10,
  mult = 2,
): [Float64Array, Float64Array, Float64Array] {
  const n = close.length;
  const upper = nanArray(n);
  const middle = nanArray(n);
  const lower = nanArray(n);
  const e = new EmaState(emaPeriod);
  const a = new AtrState(atrPeriod);
  for (let i = 0; i < n; i++) {
    const m = e.push(close[i]!);
    const r = a.push(high[i]!, low[i]!, close[i]!);
    if (Number.isNaN(m) || Number.isNaN(r)) continue;
    middle[i] = m;
    upper[i] = m + mult * r;
    lower[i] = m - mult * r;
  }
  return [upper, middle, lower];
}

export class Keltner extends IndicatorBase {
  readonly name: string;
  private readonly e: EmaState;
  private readonly a: AtrState;
  constructor(
    readonly emaPeriod = 20,
    readonly atrPeriod = 10,
    readonly mult = 2,
  ) {
    super(
      ['upper', 'middle', 'lower'],
      Math.max(
        requirePeriod('Keltner', 'emaPeriod', emaPeriod),
        requirePeriod('Keltner', 'atrPeriod', atrPeriod, 2) + 1,
      ),
    );
    this.name = `Keltner(${emaPeriod},${atrPeriod},${mult})`;
    this.e = new EmaState(emaPeriod);
    this.a = new AtrState(atrPeriod);
  }
  protected step(b: IndicatorInput): void {
    const m = this.e.push(b.close);
    const r = this.a.push(b.high, b.low, b.close);
    if (Number.isNaN(m) || Number.isNaN(r)) return;
    this.outputs[0] = m + this.mult * r;
    this.outputs[1] = m;
    this.outputs[2] = m - this.mult * r;
  }
  protected clear(): void {
    this.e.reset();
    this.a.reset();
  }
}

// ------------------------------------------------------------------------------------------ Donchian
/** [upper, middle, lower]: highest high and lowest low over `period` bars (TA-Lib MAX/MIN) and their mean. */
export function donchianBatch(
  high: Float64Array,
  low: Float64Array,
  period = 20,
): [Float64Array, Float64Array, Float64Array] {
  requirePeriod('Donchian', 'period', period);
  const n = high.length;
  const upper = nanArray(n);
  const lower = nanArray(n);
  const middle = nanArray(n);
  windowExtreme(high, period, true, upper);
  windowExtreme(low, period, false, lower);
  for (let i = period - 1; i < n; i++) middle[i] = (upper[i]! + lower[i]!) / 2;
  return [upper, middle, lower];
}

export class Donchian extends IndicatorBase {
  readonly name: string;
  private readonly hi: ExtremeState;
  private readonly lo: ExtremeState;
  constructor(readonly period = 20) {
    super(['upper', 'middle', 'lower'], requirePeriod('Donchian', 'period', period));
    this.name = `Donchian(${period})`;
    this.hi = new ExtremeState(period, true);
    this.lo = new ExtremeState(period, false);
  }
  protected step(b: IndicatorInput): void {
    const u = this.hi.push(b.high);
    const l = this.lo.push(b.low);
    if (Number.isNaN(u)) return;
    this.outputs[0] = u;
    this.outputs[1] = (u + l) / 2;
    this.outputs[2] = l;
  }
  protected clear(): void {
    this.hi.reset();
    this.lo.reset();
  }
}

// ------------------------------------------------------------------------------------------ realized volatility
export type RealizedVolKind = 'closeToClose' | 'parkinson' | 'garmanKlass';
const LN2 = Math.log(2);
const GK_C = 2 * LN2 - 1;

/**
 * Per-bar (not annualized) volatility over `period` observations:
 * close-to-close = sample σ of log returns (needs period+1 closes);
 * Parkinson = √(Σ ln(H/L)² / (4·ln2·n)); Garman-Klass = √(Σ [½ln(H/L)² − (2ln2−1)·ln(C/O)²] / n), floored at 0.
 */
function realizedVolTerm(
  kind: RealizedVolKind,
  o: number,
  h: number,
  l: number,
  c: number,
  prevClose: number,
): number {
  if (kind === 'closeToClose') return Math.log(c / prevClose);
  const hl = Math.log(h / l);
  if (kind === 'parkinson') return hl * hl;
  const co = Math.log(c / o);
  return 0.5 * hl * hl - GK_C * co * co;
}

function realizedVolOf(kind: RealizedVolKind, terms: ArrayLike<number>, from: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += terms[from + j]!;
  if (kind === 'parkinson') return Math.sqrt(s / (4 * LN2 * n));
  if (kind === 'garmanKlass') return Math.sqrt(Math.max(0, s / n));
  const mean = s / n;
  let ss = 0;
  for (let j = 0; j < n; j++) {
    const d = terms[from + j]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - 1));
}

export function realizedVolBatch(
  kind: RealizedVolKind,
  open: Float64Array,
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 20,
): Float64Array {
  requirePeriod('RealizedVol', 'period', period, 2);
  const n = close.length;
  const out = nanArray(n);
  const terms = new Float64Array(n);
  const offset = kind === 'closeToClose' ? 1 : 0;
  for (let i = offset; i < n; i++)
    terms[i] = realizedVolTerm(kind, open[i]!, high[i]!, low[i]!, close[i]!, i > 0 ? close[i - 1]! : NaN);
  for (let i = period - 1 + offset; i < n; i++) out[i] = realizedVolOf(kind, terms, i - period + 1, period);
  return out;
}

export class RealizedVol extends IndicatorBase {
  readonly name: string;
  private readonly w: Window;
  private prevClose = NaN;
  constructor(
    readonly kind: RealizedVolKind = 'closeToClose',
    readonly period = 20,
  ) {
    super(['vol'], requirePeriod('RealizedVol', 'period', period, 2) + (kind === 'closeToClose' ? 1 : 0));
    this.name = `RealizedVol(${kind},${period})`;
    this.w = new Window(period);
  }
  protected step(b: IndicatorInput, i: number): void {
    const prev = this.prevClose;
    this.prevClose = b.close;
    if (this.kind === 'closeToClose' && i === 0) return;
    if (this.w.push(realizedVolTerm(this.kind, b.open, b.high, b.low, b.close, prev))) {
      this.outputs[0] = realizedVolOf(this.kind, this.w.vals, 0, this.period);
    }
  }
  protected clear(): void {
    this.w.reset();
    this.prevClose = NaN;
  }
}

// ------------------------------------------------------------------------------------------ z-score
function zOf(x: ArrayLike<number>, from: number, n: number, last: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += x[from + j]!;
  const mean = s / n;
  let ss = 0;
  for (let j = 0; j < n; j++) {
    const d = x[from + j]! - mean;
    ss += d * d;
  }
  const sd = Math.sqrt(ss / n);
  return sd > 0 ? (last - mean) / sd : 0;
}

/** (x − mean) / σ over the last `period` values (population σ, exact per window); 0 when σ = 0. */
export function zScoreBatch(x: Float64Array, period = 20): Float64Array {
  requirePeriod('ZScore', 'period', period, 2);
  const out = nanArray(x.length);
  for (let i = period - 1; i < x.length; i++) out[i] = zOf(x, i - period + 1, period, x[i]!);
  return out;
}

export class ZScore extends IndicatorBase {
  readonly name: string;
  private readonly w: Window;
  constructor(readonly period = 20) {
    super(['z'], requirePeriod('ZScore', 'period', period, 2));
    this.name = `ZScore(${period})`;
    this.w = new Window(period);
  }
  protected step(b: IndicatorInput): void {
    if (this.w.push(b.close)) this.outputs[0] = zOf(this.w.vals, 0, this.period, b.close);
  }
  protected clear(): void {
    this.w.reset();
  }
}
