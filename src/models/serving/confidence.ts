/**
 * Confidence from prediction variance, in [0.5, 1]: the probability that the predicted direction is right,
 * read off a central 80% interval [lower, upper] around the point prediction. Treating the prediction as normal
 * with σ = (upper − lower) / (2 · z₀.₉), confidence = Φ(|center| / σ): a prediction whose interval straddles zero
 * evenly is a coin flip (0.5), one whose interval lies far on one side approaches 1.
 *
 * The strategy's signal tiers (src/strategy/reference-ai.ts: tier 1 ≥ 0.70, tier 2 ≥ 0.60, tier 3 ≥ 0.55) then
 * correspond to |center| / σ ≥ 0.524, 0.253 and 0.126.
 *
 * Where the interval comes from decides what the number means:
 * - quantile heads (the neural nets' 10/90% outputs): the spread of the forward return itself, so the confidence is
 *   the probability that the realised return has the predicted sign (under the normal reading);
 * - the spread of the walk-forward fold models (XGBoost) or of ensemble members: disagreement between models
 *   only, so it is the probability that the model's expected return has that sign — an upper bound on the
 *   realised hit rate, not an estimate of it.
 */
export const Z90 = 1.2815515655446004;

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    t *
      (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** One prediction's confidence in [0.5, 1] from its point value and central 80% interval. */
export function confidenceFromInterval(center: number, lower: number, upper: number): number {
  if (center === 0 || !Number.isFinite(center) || !Number.isFinite(lower) || !Number.isFinite(upper))
    return 0.5;
  const sigma = (upper - lower) / (2 * Z90);
  if (!(sigma > 0)) return 1;
  return Math.min(1, Math.max(0.5, normalCdf(Math.abs(center) / sigma)));
}

/** Row-wise `confidenceFromInterval`. */
export function confidences(
  score: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(score.length);
  for (let i = 0; i < score.length; i++) out[i] = confidenceFromInterval(score[i]!, lower[i]!, upper[i]!);
  return out;
}
