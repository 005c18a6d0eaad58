/**
 * Streaming building blocks with TA-Lib arithmetic. Chained indicators (DEMA, TEMA, STOCH, STOCHRSI,
 * Keltner, …) use these in BOTH their batch kernel and their incremental class, so the two agree bit for bit.
 * `push` returns NaN until the block has enough input.
 */
import { RingBuffer, perToK } from './core';

/** TA-Lib SMA: a running sum (add the new value, emit, subtract the one leaving the window). */
export class SmaState {
  private total = 0;
  private n = 0;
  private readonly ring: RingBuffer;
  constructor(readonly period: number) {
    this.ring = new RingBuffer(period);
  }
  push(x: number): number {
    this.ring.push(x);
    this.total += x;
    this.n++;
    if (this.n < this.period) return NaN;
    const t = this.total;
    this.total -= this.ring.ago(this.period - 1);
    return t / this.period;
  }
  reset(): void {
    this.total = 0;
    this.n = 0;
    this.ring.clear();
  }
}

/** TA-Lib EMA: seeded with the SMA of the first `period` values, then prev + k·(x − prev). */
export class EmaState {
  private sum = 0;
  private n = 0;
  private prev = NaN;
  readonly k: number;
  constructor(
    readonly period: number,
    k?: number,
  ) {
    this.k = k ?? perToK(period);
  }
  push(x: number): number {
    this.n++;
    if (this.n < this.period) {
      this.sum += x;
      return NaN;
    }
    if (this.n === this.period) {
      this.sum += x;
      this.prev = this.sum / this.period;
      return this.prev;
    }
    this.prev = (x - this.prev) * this.k + this.prev;
    return this.prev;
  }
  get current(): number {
    return this.prev;
  }
  reset(): void {
    this.sum = 0;
    this.n = 0;
    this.prev = NaN;
  }
}

/** Bars per block of the blocked EMA recurrence (BlockEmaState; emaBatch unrolls the same four). */
const EMA_BLOCK = 4;

/**
 * a, a², a³, a⁴ for a = 1 − k: the constants of the blocked EMA. emaBatch and BlockEmaState both take
 * them from here, so the two multiply by the same numbers.
 */
export function emaBlockPowers(k: number): [number, number, number, number] {
  const a = 1 - k;
  const a2 = a * a;
  const a3 = a2 * a;
  return [a, a2, a3, a3 * a];
}

/**
 * EMA (TA-Lib: SMA seed of the first `period` values, k = 2/(period+1)) computed in blocks of four bars,
 * the arithmetic of `emaBatch`. From the start value y₀ of a block (the seed, then the last value of the
 * previous block), with a = 1 − k:
 *
 *   P₁ = k·x₁,  Pⱼ = a·Pⱼ₋₁ + k·xⱼ,  yⱼ = aʲ·y₀ + Pⱼ   (j = 1…4; the next block starts from y₄)
 *
 * which is TA-Lib's yⱼ = yⱼ₋₁ + k·(xⱼ − yⱼ₋₁) regrouped. The P chain does not depend on y, so the
 * batch kernel overlaps blocks and the serial dependency is one multiply-add per four bars instead of
 * a subtract-multiply-add per bar. Values differ from TA-Lib's recurrence by rounding only (~1e-15
 * relative). Blocks start right after the seed, so a prefix of the series gives the same values.
 *
 * Only EMA uses this; DEMA, TEMA, MACD and Keltner keep TA-Lib's own recurrence (`EmaState`), where
 * e.g. the MACD line, a difference of two EMAs, would amplify rounding differences near zero.
 */
export class BlockEmaState {
  private sum = 0;
  private n = 0;
  /** Start value of the current block. */
  private y0 = NaN;
  /** The block's P chain. */
  private p = 0;
  /** Bars of the current block already seen (0…EMA_BLOCK − 1). */
  private j = 0;
  private prev = NaN;
  readonly k: number;
  private readonly pow: [number, number, number, number];
  constructor(
    readonly period: number,
    k?: number,
  ) {
    this.k = k ?? perToK(period);
    this.pow = emaBlockPowers(this.k);
  }
  push(x: number): number {
    this.n++;
    if (this.n < this.period) {
      this.sum += x;
      return NaN;
    }
    if (this.n === this.period) {
      this.sum += x;
      this.y0 = this.sum / this.period;
      this.j = 0;
      this.prev = this.y0;
      return this.prev;
    }
    const j = this.j;
    this.p = j === 0 ? this.k * x : this.pow[0] * this.p + this.k * x;
    const y = this.pow[j]! * this.y0 + this.p;
    if (j === EMA_BLOCK - 1) {
      this.y0 = y;
      this.j = 0;
    } else {
      this.j = j + 1;
    }
    this.prev = y;
    return y;
  }
  get current(): number {
    return this.prev;
  }
  reset(): void {
    this.sum = 0;
    this.n = 0;
    this.y0 = NaN;
    this.p = 0;
    this.j = 0;
    this.prev = NaN;
  }
}

/**
 * Highest (or lowest) value over the last `period` samples with TA-Lib's bookkeeping: when the extreme
 * leaves the window, rescan it oldest-first keeping the first strict extreme; otherwise a new value that
 * ties or beats it takes over. The index matters for Aroon, which reports bars since the extreme.
 */
export class ExtremeState {
  private readonly ring: RingBuffer;
  private i = -1;
  private extIdx = -1;
  private ext = 0;
  constructor(
    readonly period: number,
    readonly highest: boolean,
  ) {
    this.ring = new RingBuffer(period);
  }
  /** Pushes x; returns the extreme over the window once it is full, else NaN. */
  push(x: number): number {
    this.i++;
    this.ring.push(x);
    const trailing = this.i - this.period + 1;
    if (trailing < 0) return NaN;
    if (this.extIdx < trailing) {
      this.extIdx = trailing;
      this.ext = this.ring.ago(this.period - 1);
      for (let j = trailing + 1; j <= this.i; j++) {
        const v = this.ring.ago(this.i - j);
        if (this.highest ? v > this.ext : v < this.ext) {
          this.extIdx = j;
          this.ext = v;
        }
      }
    } else if (this.highest ? x >= this.ext : x <= this.ext) {
      this.extIdx = this.i;
      this.ext = x;
    }
    return this.ext;
  }
  /** Samples since the extreme (0 = the current sample). */
  get age(): number {
    return this.i - this.extIdx;
  }
  reset(): void {
    this.ring.clear();
    this.i = -1;
    this.extIdx = -1;
    this.ext = 0;
  }
}

/** Windowed extreme over arrays with the same TA-Lib semantics (value only). */
export function windowExtreme(x: Float64Array, period: number, highest: boolean, out: Float64Array): void {
  const n = x.length;
  let extIdx = -1;
  let ext = 0;
  for (let i = period - 1; i < n; i++) {
    const trailing = i - period + 1;
    const v = x[i]!;
    if (extIdx < trailing) {
      extIdx = trailing;
      ext = x[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        const w = x[j]!;
        if (highest ? w > ext : w < ext) {
          extIdx = j;
          ext = w;
        }
      }
    } else if (highest ? v >= ext : v <= ext) {
      extIdx = i;
      ext = v;
    }
    out[i] = ext;
  }
}
