/**
 * Rolling beta and correlation to a benchmark, with TA-Lib's BETA and CORREL definitions (running sums,
 * so results can be checked against TA-Lib): BETA regresses the asset's simple returns on the
 * benchmark's over `period` returns; CORREL is Pearson's r of the two input series over `period` values.
 * Feed CORREL returns, not prices, when you want return correlation (the feature set does).
 */
import {
  IndicatorBase,
  RingBuffer,
  nanArray,
  requirePeriod,
  taIsZero as core_taIsZero,
  taIsZeroOrNeg as core_taIsZeroOrNeg,
  type IndicatorInput,
} from './core';

// Imported bindings compile to getter calls on the module object under CommonJS; hot loops use these
// file-local copies instead (same values, same functions).
const taIsZero = core_taIsZero;
const taIsZeroOrNeg = core_taIsZeroOrNeg;

function simpleReturn(now: number, prev: number): number {
  return taIsZero(prev) ? 0.0 : (now - prev) / prev;
}

/** beta of `asset` on `bench` (TA-Lib BETA with inReal0 = bench, inReal1 = asset). */
export function betaBatch(asset: Float64Array, bench: Float64Array, period = 20): Float64Array {
  requirePeriod('BETA', 'period', period);
  const n = asset.length;
  const out = nanArray(n);
  let sxx = 0;
  let sxy = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 1; i < n; i++) {
    const x = simpleReturn(bench[i]!, bench[i - 1]!);
    const y = simpleReturn(asset[i]!, asset[i - 1]!);
    sxx += x * x;
    sxy += x * y;
    sx += x;
    sy += y;
    if (i < period) continue;
    const t = period * sxx - sx * sx;
    out[i] = taIsZero(t) ? 0.0 : (period * sxy - sx * sy) / t;
    const j = i - period + 1;
    const tx = simpleReturn(bench[j]!, bench[j - 1]!);
    const ty = simpleReturn(asset[j]!, asset[j - 1]!);
    sxx -= tx * tx;
    sxy -= tx * ty;
    sx -= tx;
    sy -= ty;
  }
  return out;
}

export class BETA extends IndicatorBase {
  readonly name: string;
  private readonly rx: RingBuffer;
  private readonly ry: RingBuffer;
  private lastX = 0;
  private lastY = 0;
  private sxx = 0;
  private sxy = 0;
  private sx = 0;
  private sy = 0;
  constructor(readonly period = 20) {
    super(['beta'], requirePeriod('BETA', 'period', period) + 1);
    this.name = `BETA(${period})`;
    this.rx = new RingBuffer(period);
    this.ry = new RingBuffer(period);
  }
  protected step(b: IndicatorInput, i: number): void {
    const bench = requireBenchmark(b, this.name);
    if (i === 0) {
      this.lastX = bench;
      this.lastY = b.close;
      return;
    }
    const x = simpleReturn(bench, this.lastX);
    const y = simpleReturn(b.close, this.lastY);
    this.lastX = bench;
    this.lastY = b.close;
    this.rx.push(x);
    this.ry.push(y);
    this.sxx += x * x;
    this.sxy += x * y;
    this.sx += x;
    this.sy += y;
    if (i < this.period) return;
    const p = this.period;
    const t = p * this.sxx - this.sx * this.sx;
    this.outputs[0] = taIsZero(t) ? 0.0 : (p * this.sxy - this.sx * this.sy) / t;
    const tx = this.rx.ago(p - 1);
    const ty = this.ry.ago(p - 1);
    this.sxx -= tx * tx;
    this.sxy -= tx * ty;
    this.sx -= tx;
    this.sy -= ty;
  }
  protected clear(): void {
    this.rx.clear();
    this.ry.clear();
    this.lastX = this.lastY = this.sxx = this.sxy = this.sx = this.sy = 0;
  }
}

function correlOf(sx: number, sy: number, sxx: number, syy: number, sxy: number, p: number): number {
  const t = (sxx - (sx * sx) / p) * (syy - (sy * sy) / p);
  return taIsZeroOrNeg(t) ? 0.0 : (sxy - (sx * sy) / p) / Math.sqrt(t);
}

/** Pearson correlation of x and y over `period` values (TA-Lib CORREL). */
export function correlBatch(x: Float64Array, y: Float64Array, period = 20): Float64Array {
  requirePeriod('CORREL', 'period', period);
  const n = x.length;
  const out = nanArray(n);
  if (n < period) return out;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < period; i++) {
    const a = x[i]!;
    const b = y[i]!;
    sx += a;
    sxx += a * a;
    sxy += a * b;
    sy += b;
    syy += b * b;
  }
  out[period - 1] = correlOf(sx, sy, sxx, syy, sxy, period);
  for (let i = period; i < n; i++) {
    const ta = x[i - period]!;
    const tb = y[i - period]!;
    sx -= ta;
    sxx -= ta * ta;
    sxy -= ta * tb;
    sy -= tb;
    syy -= tb * tb;
    const a = x[i]!;
    const b = y[i]!;
    sx += a;
    sxx += a * a;
    sxy += a * b;
    sy += b;
    syy += b * b;
    out[i] = correlOf(sx, sy, sxx, syy, sxy, period);
  }
  return out;
}

/** Streaming CORREL over (x, y) pairs. */
export class CorrelState {
  private readonly rx: RingBuffer;
  private readonly ry: RingBuffer;
  private n = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private syy = 0;
  private sxy = 0;
  constructor(readonly period: number) {
    this.rx = new RingBuffer(period + 1);
    this.ry = new RingBuffer(period + 1);
  }
  push(a: number, b: number): number {
    this.rx.push(a);
    this.ry.push(b);
    const i = this.n++;
    if (i >= this.period) {
      const ta = this.rx.ago(this.period);
      const tb = this.ry.ago(this.period);
      this.sx -= ta;
      this.sxx -= ta * ta;
      this.sxy -= ta * tb;
      this.sy -= tb;
      this.syy -= tb * tb;
    }
    this.sx += a;
    this.sxx += a * a;
    this.sxy += a * b;
    this.sy += b;
    this.syy += b * b;
    return i >= this.period - 1 ? correlOf(this.sx, this.sy, this.sxx, this.syy, this.sxy, this.period) : NaN;
  }
  reset(): void {
    this.rx.clear();
    this.ry.clear();
    this.n = 0;
    this.sx = this.sy = this.sxx = this.syy = this.sxy = 0;
  }
}

export class CORREL extends IndicatorBase {
  readonly name: string;
  private readonly s: CorrelState;
  constructor(readonly period = 20) {
    super(['correl'], requirePeriod('CORREL', 'period', period));
    this.name = `CORREL(${period})`;
    this.s = new CorrelState(period);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.close, requireBenchmark(b, this.name));
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

function requireBenchmark(b: IndicatorInput, name: string): number {
  if (b.benchmark === undefined)
    throw new RangeError(`${name}: input.benchmark is missing (the benchmark close at ts ${b.ts})`);
  return b.benchmark;
}
