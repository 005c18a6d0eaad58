/**
 * The indicator contract (LEAN style) and the small pieces every indicator shares.
 *
 * Each indicator exists twice: an incremental class (`update(input) → isReady`) for live use, and a batch
 * kernel over Float64Array for research and feature computation. Both perform the same floating-point
 * operations in the same order, so they agree bit for bit; the shared test harness checks this.
 */

/** What an indicator can be fed: a bar, optionally with a benchmark close and top-of-book fields. */
export interface IndicatorInput {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Close of the benchmark at the same ts (beta, correlation). */
  readonly benchmark?: number;
  readonly bid?: number;
  readonly ask?: number;
  readonly bidSize?: number;
  readonly askSize?: number;
}

/** Columnar inputs for batch kernels; only the columns an indicator reads must be present. */
export interface IndicatorColumns {
  readonly ts?: Float64Array;
  readonly open?: Float64Array;
  readonly high?: Float64Array;
  readonly low?: Float64Array;
  readonly close?: Float64Array;
  readonly volume?: Float64Array;
  readonly benchmark?: Float64Array;
  readonly bid?: Float64Array;
  readonly ask?: Float64Array;
  readonly bidSize?: Float64Array;
  readonly askSize?: Float64Array;
}

export type ColumnName = Exclude<keyof IndicatorColumns, 'ts'>;

export interface Indicator {
  readonly name: string;
  /** Names of the values in `outputs`, in order. */
  readonly outputNames: readonly string[];
  /** Samples needed before the first value (TA-Lib's lookback + 1). */
  readonly warmUpPeriod: number;
  /** Accepted (in-order) samples since construction or the last reset. */
  readonly samples: number;
  readonly isReady: boolean;
  /** Current values, NaN until ready. */
  readonly outputs: Float64Array;
  /** The first output. */
  readonly value: number;
  /** Feeds one sample; samples whose ts is not after the last accepted one are ignored. */
  update(input: IndicatorInput): boolean;
  reset(): void;
}

/**
 * Base class: ordering, sample counting and readiness. Subclasses implement `step` (state update for one
 * accepted sample, writing `this.outputs` when ready) and `clear` (forget state).
 */
export abstract class IndicatorBase implements Indicator {
  abstract readonly name: string;
  readonly outputs: Float64Array;
  private count = 0;
  private lastTs = -Infinity;

  constructor(
    readonly outputNames: readonly string[],
    readonly warmUpPeriod: number,
  ) {
    this.outputs = new Float64Array(outputNames.length).fill(NaN);
  }

  get samples(): number {
    return this.count;
  }
  get isReady(): boolean {
    return this.count >= this.warmUpPeriod;
  }
  get value(): number {
    return this.outputs[0]!;
  }

  update(input: IndicatorInput): boolean {
    // Out-of-order or duplicate input is ignored: a late bar must not corrupt recursive state.
    if (!(input.ts > this.lastTs)) return this.isReady;
    this.lastTs = input.ts;
    this.count++;
    this.step(input, this.count - 1);
    return this.isReady;
  }

  reset(): void {
    this.count = 0;
    this.lastTs = -Infinity;
    this.outputs.fill(NaN);
    this.clear();
  }

  /** `index` is the 0-based position of this sample in the accepted stream (the batch kernel's i). */
  protected abstract step(input: IndicatorInput, index: number): void;
  protected abstract clear(): void;
}

/** TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG with TA_EPSILON = 1e-14. */
export const TA_EPSILON = 1e-14;
export function taIsZero(v: number): boolean {
  return -TA_EPSILON < v && v < TA_EPSILON;
}
export function taIsZeroOrNeg(v: number): boolean {
  return v < TA_EPSILON;
}
/** TA-Lib's PER_TO_K. */
export function perToK(period: number): number {
  return 2.0 / (period + 1);
}

export function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(NaN);
}

/**
 * An output column of length n: `out` when the caller passes one (reusing memory avoids allocating and
 * page-faulting megabytes per call in hot loops), else a new array. Only [0, lookback) is set to NaN
 * here; kernels write every index from `lookback` on.
 */
export function outputColumn(n: number, lookback: number, out?: Float64Array): Float64Array {
  if (out && out.length !== n) throw new RangeError(`output column has length ${out.length}, input has ${n}`);
  const o = out ?? new Float64Array(n);
  o.fill(NaN, 0, Math.min(n, Math.max(0, lookback)));
  return o;
}

export function requirePeriod(name: string, field: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name}: ${field} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

export function requireColumn(cols: IndicatorColumns, name: ColumnName, indicator: string): Float64Array {
  const c = cols[name];
  if (!c) throw new RangeError(`${indicator}: batch input column "${name}" is missing`);
  return c;
}

/** A fixed-size window over the last `size` values, oldest first by logical index. */
export class RingBuffer {
  private readonly buf: Float64Array;
  private head = 0;
  private len = 0;
  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }
  get length(): number {
    return this.len;
  }
  push(v: number): void {
    this.buf[this.head] = v;
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
    if (this.len < this.size) this.len++;
  }
  /** k = 0 is the newest value, k = length-1 the oldest. */
  ago(k: number): number {
    let idx = this.head - 1 - k;
    if (idx < 0) idx += this.size;
    return this.buf[idx]!;
  }
  clear(): void {
    this.head = 0;
    this.len = 0;
  }
}
