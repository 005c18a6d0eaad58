/**
 * Small incremental indicators the reference strategy keeps per (symbol, timeframe). TA-Lib definitions
 * (EMA seeded with the SMA, Wilder ATR) so values match src/indicators; kept here, allocation-free, because
 * the strategy's hot path runs once per bar per series in the full-pipeline benchmark.
 */
export class IncEma {
  value = Number.NaN;
  private n = 0;
  private sum = 0;
  private readonly k: number;
  constructor(readonly period: number) {
    this.k = 2 / (period + 1);
  }
  push(x: number): number {
    this.n++;
    if (this.n < this.period) {
      this.sum += x;
    } else if (this.n === this.period) {
      this.sum += x;
      this.value = this.sum / this.period;
    } else {
      this.value += this.k * (x - this.value);
    }
    return this.value;
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
}

/** Wilder's ATR (TA-Lib): first value is the SMA of `period` true ranges, starting from the second bar. */
export class IncAtr {
  value = Number.NaN;
  private n = 0;
  private prevClose = 0;
  private sum = 0;
  constructor(readonly period: number) {}
  push(h: number, l: number, c: number): number {
    const i = this.n++;
    if (i === 0) {
      this.prevClose = c;
      return this.value;
    }
    const tr = Math.max(h - l, Math.abs(h - this.prevClose), Math.abs(l - this.prevClose));
    this.prevClose = c;
    if (i < this.period) this.sum += tr;
    else if (i === this.period) {
      this.sum += tr;
      this.value = this.sum / this.period;
    } else this.value = (this.value * (this.period - 1) + tr) / this.period;
    return this.value;
  }
  get ready(): boolean {
    return this.n > this.period;
  }
}

/** Rolling mean over a fixed window (ring buffer). */
export class RollingMean {
  private readonly buf: Float64Array;
  private i = 0;
  private n = 0;
  private sum = 0;
  constructor(readonly period: number) {
    this.buf = new Float64Array(period);
  }
  push(x: number): number {
    if (this.n === this.period) this.sum -= this.buf[this.i]!;
    else this.n++;
    this.buf[this.i] = x;
    this.sum += x;
    this.i = (this.i + 1) % this.period;
    return this.sum / this.n;
  }
  get value(): number {
    return this.n === 0 ? Number.NaN : this.sum / this.n;
  }
  get ready(): boolean {
    return this.n === this.period;
  }
  /** the value that will drop out next (the oldest), for lagged comparisons */
  oldest(): number {
    return this.n < this.period ? this.buf[0]! : this.buf[this.i]!;
  }
}
