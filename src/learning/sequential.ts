/**
 * Sequential tests of a model's live record against its out-of-sample one, so that the evidence of several days
 * accumulates and one bad week is not a verdict (and one good day does not wipe out a bad month):
 *
 * - Wald's SPRT on the hit rate: H0 "the live hit rate is the out-of-sample one (p0)" against H1 "it fell by
 *   `delta` (p1 = p0 − delta)". Each day adds the log-likelihood ratio of its hits and misses. Crossing
 *   B = ln((1 − β) / α) is the verdict "degraded"; crossing A = ln(β / (1 − α)) accepts H0 and the test starts
 *   over (the record so far says the model is as good as promised). α bounds false alarms, β missed ones.
 * - A one-sided CUSUM (Page) on the standardised daily mean return: z = (live mean − out-of-sample mean) /
 *   (out-of-sample SD / √n) per day; S = max(0, S − z − k), alarm when S > h. With k = 0.5 and h = 5 a day one
 *   standard error below expectation adds 0.5: a week of that does not alarm, a sign flip (≈ 2 s.e. a day at 78
 *   rows a day and a per-row Sharpe of 0.1) does within about four days.
 *
 * States are plain JSON: the drift monitor keeps them per model and day in `model_drift.sequential`, and each day
 * continues from the state of the model's previous day (never from a later one).
 */

export interface SprtOptions {
  /** H0 hit rate (the model's out-of-sample hit rate, at least 0.5 + delta so H1 stays at or above a coin) */
  readonly p0: number;
  /** drop of the hit rate H1 stands for */
  readonly delta: number;
  /** false-alarm rate */
  readonly alpha: number;
  /** missed-degradation rate */
  readonly beta: number;
}

export interface SprtState {
  /** log-likelihood ratio accumulated since the test (re)started */
  readonly llr: number;
  /** observations since the test (re)started */
  readonly n: number;
  /** tests finished by accepting H0 (the model is fine) */
  readonly restarts: number;
  readonly verdict: 'continue' | 'degraded';
}

export const SPRT_START: SprtState = { llr: 0, n: 0, restarts: 0, verdict: 'continue' };

export function sprtBounds(o: Pick<SprtOptions, 'alpha' | 'beta'>): { lower: number; upper: number } {
  return { lower: Math.log(o.beta / (1 - o.alpha)), upper: Math.log((1 - o.beta) / o.alpha) };
}

/** Adds a day's hits out of n to the test; a "degraded" verdict stays until the state is reset. */
export function sprtUpdate(state: SprtState, hits: number, n: number, o: SprtOptions): SprtState {
  if (!(o.p0 > 0 && o.p0 < 1 && o.delta > 0 && o.p0 - o.delta > 0))
    throw new RangeError(`sprt: p0 ${o.p0} and delta ${o.delta} must give 0 < p1 < p0 < 1`);
  if (state.verdict === 'degraded' || n === 0) return state;
  const p1 = o.p0 - o.delta;
  const llr = state.llr + hits * Math.log(p1 / o.p0) + (n - hits) * Math.log((1 - p1) / (1 - o.p0));
  const { lower, upper } = sprtBounds(o);
  if (llr >= upper) return { llr, n: state.n + n, restarts: state.restarts, verdict: 'degraded' };
  if (llr <= lower) return { llr: 0, n: 0, restarts: state.restarts + 1, verdict: 'continue' };
  return { llr, n: state.n + n, restarts: state.restarts, verdict: 'continue' };
}

export interface CusumOptions {
  /** slack per day, in standard errors */
  readonly k: number;
  /** alarm threshold */
  readonly h: number;
}

export const DEFAULT_CUSUM: CusumOptions = { k: 0.5, h: 5 };

export interface CusumState {
  readonly s: number;
  readonly days: number;
  readonly alarm: boolean;
}

export const CUSUM_START: CusumState = { s: 0, days: 0, alarm: false };

/** Adds a day's standardised shortfall z (negative: worse than expected); the alarm stays until reset. */
export function cusumUpdate(state: CusumState, z: number, o: CusumOptions = DEFAULT_CUSUM): CusumState {
  if (!Number.isFinite(z) || state.alarm) return state;
  const s = Math.max(0, state.s - z - o.k);
  return { s, days: state.days + 1, alarm: s > o.h };
}

/** The standardised difference of a day's mean from the expected mean: (mean − μ) / (σ / √n). */
export function standardisedShortfall(mean: number, n: number, mu: number, sd: number): number {
  if (!(n > 0) || !(sd > 0)) return NaN;
  return (mean - mu) / (sd / Math.sqrt(n));
}
