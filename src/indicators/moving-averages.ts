/** Moving averages with TA-Lib definitions: SMA, EMA (SMA seed), WMA, DEMA, TEMA, KAMA. */
import {
  IndicatorBase,
  RingBuffer,
  nanArray,
  outputColumn,
  perToK,
  requirePeriod,
  taIsZero as core_taIsZero,
  type IndicatorInput,
} from './core';
import { BlockEmaState, EmaState, SmaState, emaBlockPowers } from './primitives';

// Imported bindings compile to getter calls on the module object under CommonJS; hot loops use these
// file-local copies instead (same values, same functions).
const taIsZero = core_taIsZero;

// ------------------------------------------------------------------------------------------ SMA
export function smaBatch(x: Float64Array, period: number, into?: Float64Array): Float64Array {
  requirePeriod('SMA', 'period', period);
  const n = x.length;
  const out = outputColumn(n, period - 1, into);
  if (n < period) return out;
  let total = 0;
  for (let i = 0; i < period - 1; i++) total += x[i]!;
  let trailing = 0;
  for (let i = period - 1; i < n; i++) {
    total += x[i]!;
    const t = total;
    total -= x[trailing++]!;
    out[i] = t / period;
  }
  return out;
}

const closeOf = (b: IndicatorInput): number => b.close;

export class SMA extends IndicatorBase {
  readonly name: string;
  private readonly s: SmaState;
  /** `source` picks the input field (LEAN's selector): the close by default, e.g. `(b) => b.volume`. */
  constructor(
    readonly period: number,
    private readonly source: (b: IndicatorInput) => number = closeOf,
  ) {
    super(['sma'], requirePeriod('SMA', 'period', period));
    this.name = source === closeOf ? `SMA(${period})` : `SMA(${period}, custom source)`;
    this.s = new SmaState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(this.source(b));
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ EMA
/**
 * TA-Lib's EMA (SMA seed, k = 2/(period+1)) in blocks of four bars: see BlockEmaState for the
 * arithmetic, which the EMA class repeats step by step (bit for bit the same values).
 */
export function emaBatch(
  x: Float64Array,
  period: number,
  k = perToK(period),
  into?: Float64Array,
): Float64Array {
  requirePeriod('EMA', 'period', period);
  const n = x.length;
  const out = outputColumn(n, period - 1, into);
  if (n < period) return out;
  let sum = 0;
  for (let i = 0; i < period; i++) sum += x[i]!;
  let y = sum / period;
  out[period - 1] = y;
  const pow = emaBlockPowers(k);
  // Full blocks of four bars, then the last, partial block (at most three bars).
  const tail = period + ((n - period) & ~3);
  y = emaBlocks(x, out, period, tail, y, k, pow[0], pow[1], pow[2], pow[3]);
  let p = 0;
  for (let j = tail, q = 0; j < n; j++, q++) {
    p = q === 0 ? k * x[j]! : pow[0] * p + k * x[j]!;
    out[j] = pow[q]! * y + p;
  }
  return out;
}

/**
 * emaBatch's full blocks: bars from … to−1 (a multiple of four bars) from start value y; returns the
 * last value. The P chain (p1…p4) does not depend on y, so the CPU overlaps blocks; the serial chain
 * through y is one multiply-add per block. Two blocks per iteration (the second starts from the
 * first's last value, as always), which lets the CPU start both P chains at once. (A function of its
 * own so that V8 optimizes the loop without the partial block after it, which it otherwise reached
 * with no type feedback and deoptimized at on every call.)
 */
function emaBlocks(
  x: Float64Array,
  out: Float64Array,
  from: number,
  to: number,
  y: number,
  k: number,
  a: number,
  a2: number,
  a3: number,
  a4: number,
): number {
  let b = from;
  // An odd block first, so that the loop below is all V8 has to optimize (code after a long loop was
  // reached with no type feedback and deoptimized on every call).
  if (((to - from) & 4) !== 0) {
    const p1 = k * x[b]!;
    const p2 = a * p1 + k * x[b + 1]!;
    const p3 = a * p2 + k * x[b + 2]!;
    const p4 = a * p3 + k * x[b + 3]!;
    const y4 = a4 * y + p4;
    out[b + 3] = y4;
    out[b + 2] = a3 * y + p3;
    out[b + 1] = a2 * y + p2;
    out[b] = a * y + p1;
    y = y4;
    b += 4;
  }
  // Pairs of blocks; i is the last bar of the pair (i−7 … i).
  for (let i = b + 7; i < to; i += 8) {
    const p1 = k * x[i - 7]!;
    const q1 = k * x[i - 3]!;
    const p2 = a * p1 + k * x[i - 6]!;
    const q2 = a * q1 + k * x[i - 2]!;
    const p3 = a * p2 + k * x[i - 5]!;
    const q3 = a * q2 + k * x[i - 1]!;
    const p4 = a * p3 + k * x[i - 4]!;
    const q4 = a * q3 + k * x[i]!;
    const y4 = a4 * y + p4;
    out[i - 4] = y4;
    out[i - 5] = a3 * y + p3;
    out[i - 6] = a2 * y + p2;
    out[i - 7] = a * y + p1;
    const y8 = a4 * y4 + q4;
    out[i] = y8;
    out[i - 1] = a3 * y4 + q3;
    out[i - 2] = a2 * y4 + q2;
    out[i - 3] = a * y4 + q1;
    y = y8;
  }
  return y;
}

export class EMA extends IndicatorBase {
  readonly name: string;
  private readonly e: BlockEmaState;
  constructor(readonly period: number) {
    super(['ema'], requirePeriod('EMA', 'period', period));
    this.name = `EMA(${period})`;
    this.e = new BlockEmaState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.e.push(b.close);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.e.reset();
  }
}

// ------------------------------------------------------------------------------------------ WMA
/** TA-Lib's WMA: a running weighted sum updated by subtracting the plain running sum. */
export function wmaBatch(x: Float64Array, period: number, into?: Float64Array): Float64Array {
  requirePeriod('WMA', 'period', period);
  const n = x.length;
  const out = outputColumn(n, period - 1, into);
  if (n < period) return out;
  const divider = (period * (period + 1)) / 2;
  let periodSum = 0;
  let periodSub = 0;
  for (let i = 0; i < period - 1; i++) {
    const v = x[i]!;
    periodSub += v;
    periodSum += v * (i + 1);
  }
  let trailingValue = 0;
  let trailing = 0;
  for (let i = period - 1; i < n; i++) {
    const v = x[i]!;
    periodSub += v;
    periodSub -= trailingValue;
    periodSum += v * period;
    trailingValue = x[trailing++]!;
    out[i] = periodSum / divider;
    periodSum -= periodSub;
  }
  return out;
}

export class WMA extends IndicatorBase {
  readonly name: string;
  private readonly ring: RingBuffer;
  private periodSum = 0;
  private periodSub = 0;
  private trailingValue = 0;
  private readonly divider: number;
  constructor(readonly period: number) {
    super(['wma'], requirePeriod('WMA', 'period', period));
    this.name = `WMA(${period})`;
    this.ring = new RingBuffer(period);
    this.divider = (period * (period + 1)) / 2;
  }
  protected step(b: IndicatorInput, i: number): void {
    const v = b.close;
    this.ring.push(v);
    if (i < this.period - 1) {
      this.periodSub += v;
      this.periodSum += v * (i + 1);
      return;
    }
    this.periodSub += v;
    this.periodSub -= this.trailingValue;
    this.periodSum += v * this.period;
    this.trailingValue = this.ring.ago(this.period - 1);
    this.outputs[0] = this.periodSum / this.divider;
    this.periodSum -= this.periodSub;
  }
  protected clear(): void {
    this.ring.clear();
    this.periodSum = this.periodSub = this.trailingValue = 0;
  }
}

// ------------------------------------------------------------------------------------------ DEMA / TEMA
/** DEMA = 2·EMA − EMA(EMA); the second EMA is seeded from the first EMA's first `period` values. */
export function demaBatch(x: Float64Array, period: number): Float64Array {
  requirePeriod('DEMA', 'period', period);
  const e1 = new EmaState(period);
  const e2 = new EmaState(period);
  const out = nanArray(x.length);
  for (let i = 0; i < x.length; i++) {
    const a = e1.push(x[i]!);
    if (Number.isNaN(a)) continue;
    const b = e2.push(a);
    if (!Number.isNaN(b)) out[i] = 2.0 * a - b;
  }
  return out;
}

export class DEMA extends IndicatorBase {
  readonly name: string;
  private readonly e1: EmaState;
  private readonly e2: EmaState;
  constructor(readonly period: number) {
    super(['dema'], 2 * (requirePeriod('DEMA', 'period', period) - 1) + 1);
    this.name = `DEMA(${period})`;
    this.e1 = new EmaState(period);
    this.e2 = new EmaState(period);
  }
  protected step(bar: IndicatorInput): void {
    const a = this.e1.push(bar.close);
    if (Number.isNaN(a)) return;
    const b = this.e2.push(a);
    if (!Number.isNaN(b)) this.outputs[0] = 2.0 * a - b;
  }
  protected clear(): void {
    this.e1.reset();
    this.e2.reset();
  }
}

/** TEMA = 3·EMA − 3·EMA² + EMA³, summed in TA-Lib's order: e3 + ((3·e1) − (3·e2)). */
export function temaBatch(x: Float64Array, period: number): Float64Array {
  requirePeriod('TEMA', 'period', period);
  const e1 = new EmaState(period);
  const e2 = new EmaState(period);
  const e3 = new EmaState(period);
  const out = nanArray(x.length);
  for (let i = 0; i < x.length; i++) {
    const a = e1.push(x[i]!);
    if (Number.isNaN(a)) continue;
    const b = e2.push(a);
    if (Number.isNaN(b)) continue;
    const c = e3.push(b);
    if (!Number.isNaN(c)) out[i] = c + (3.0 * a - 3.0 * b);
  }
  return out;
}

export class TEMA extends IndicatorBase {
  readonly name: string;
  private readonly e1: EmaState;
  private readonly e2: EmaState;
  private readonly e3: EmaState;
  constructor(readonly period: number) {
    super(['tema'], 3 * (requirePeriod('TEMA', 'period', period) - 1) + 1);
    this.name = `TEMA(${period})`;
    this.e1 = new EmaState(period);
    this.e2 = new EmaState(period);
    this.e3 = new EmaState(period);
  }
  protected step(bar: IndicatorInput): void {
    const a = this.e1.push(bar.close);
    if (Number.isNaN(a)) return;
    const b = this.e2.push(a);
    if (Number.isNaN(b)) return;
    const c = this.e3.push(b);
    if (!Number.isNaN(c)) this.outputs[0] = c + (3.0 * a - 3.0 * b);
  }
  protected clear(): void {
    this.e1.reset();
    this.e2.reset();
    this.e3.reset();
  }
}

// ------------------------------------------------------------------------------------------ KAMA
const KAMA_CONST_MAX = 2.0 / (30.0 + 1.0);
const KAMA_CONST_DIFF = 2.0 / (2.0 + 1.0) - KAMA_CONST_MAX;

function kamaSmoothing(sumROC1: number, periodROC: number): number {
  let t = sumROC1 <= periodROC || taIsZero(sumROC1) ? 1.0 : Math.abs(periodROC / sumROC1);
  t = t * KAMA_CONST_DIFF + KAMA_CONST_MAX;
  return t * t;
}

/** Kaufman adaptive MA, TA-Lib: efficiency ratio over `period` changes, fast 2 / slow 30. */
export function kamaBatch(x: Float64Array, period: number): Float64Array {
  requirePeriod('KAMA', 'period', period);
  const n = x.length;
  const out = nanArray(n);
  if (n <= period) return out;
  let sumROC1 = 0;
  for (let i = 0; i < period; i++) sumROC1 += Math.abs(x[i]! - x[i + 1]!);
  let prev = x[period - 1]!;
  let trailingValue = x[0]!;
  prev = (x[period]! - prev) * kamaSmoothing(sumROC1, x[period]! - x[0]!) + prev;
  out[period] = prev;
  for (let i = period + 1; i < n; i++) {
    const v = x[i]!;
    const t2 = x[i - period]!;
    const periodROC = v - t2;
    sumROC1 -= Math.abs(trailingValue - t2);
    sumROC1 += Math.abs(v - x[i - 1]!);
    trailingValue = t2;
    prev = (v - prev) * kamaSmoothing(sumROC1, periodROC) + prev;
    out[i] = prev;
  }
  return out;
}

export class KAMA extends IndicatorBase {
  readonly name: string;
  private readonly ring: RingBuffer;
  private sumROC1 = 0;
  private prev = 0;
  private trailingValue = 0;
  constructor(readonly period: number) {
    super(['kama'], requirePeriod('KAMA', 'period', period) + 1);
    this.name = `KAMA(${period})`;
    this.ring = new RingBuffer(period + 1);
  }
  protected step(bar: IndicatorInput, i: number): void {
    const p = this.period;
    const v = bar.close;
    this.ring.push(v);
    if (i < p) return;
    if (i === p) {
      // The first sum runs oldest-first over the window, exactly as TA-Lib's seed loop.
      let s = 0;
      for (let k = p; k >= 1; k--) s += Math.abs(this.ring.ago(k) - this.ring.ago(k - 1));
      this.sumROC1 = s;
      const first = this.ring.ago(p);
      this.trailingValue = first;
      const prev = this.ring.ago(1);
      this.prev = (v - prev) * kamaSmoothing(s, v - first) + prev;
    } else {
      const t2 = this.ring.ago(p);
      const periodROC = v - t2;
      this.sumROC1 -= Math.abs(this.trailingValue - t2);
      this.sumROC1 += Math.abs(v - this.ring.ago(1));
      this.trailingValue = t2;
      this.prev = (v - this.prev) * kamaSmoothing(this.sumROC1, periodROC) + this.prev;
    }
    this.outputs[0] = this.prev;
  }
  protected clear(): void {
    this.ring.clear();
    this.sumROC1 = this.prev = this.trailingValue = 0;
  }
}
