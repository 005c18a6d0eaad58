/**
 * The volatility-spike detector behind the REDUCING breaker: per execution series, a fast and a slow EWMA of
 * absolute log returns; the ratio is the mean fast/slow over the series with at least 50 returns. Kept in
 * columns so the backtester's hot loop stays allocation-free; the session's strategy host runs the same code.
 */
export class VolatilityTracker {
  fast: Float64Array;
  slow: Float64Array;
  n: Int32Array;

  constructor(series: number) {
    this.fast = new Float64Array(series);
    this.slow = new Float64Array(series);
    this.n = new Int32Array(series);
  }

  /** One new close for series i, given the previous close of the same series. */
  update(i: number, prevClose: number, close: number): void {
    const r = Math.abs(Math.log(close / prevClose));
    if (!Number.isFinite(r)) return;
    const n = this.n[i]!;
    this.fast[i] = n === 0 ? r : this.fast[i]! + 0.2 * (r - this.fast[i]!);
    this.slow[i] = n === 0 ? r : this.slow[i]! + 0.01 * (r - this.slow[i]!);
    this.n[i] = n + 1;
  }

  /** Mean fast/slow over the included series that have 50+ returns; 1 when none has. */
  ratio(include?: Uint8Array): number {
    let sum = 0;
    let k = 0;
    for (let i = 0; i < this.n.length; i++) {
      if ((include && !include[i]) || this.n[i]! < 50 || !(this.slow[i]! > 0)) continue;
      sum += this.fast[i]! / this.slow[i]!;
      k++;
    }
    return k === 0 ? 1 : sum / k;
  }
}
