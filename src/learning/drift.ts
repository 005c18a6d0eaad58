/**
 * The drift monitor's arithmetic, one model and one trading day at a time (the activity gathers the inputs from
 * the stored bars, the predictions table and the registry):
 *
 * - feature drift: PSI of each feature over the rows of a trailing window of trading days (recomputed from the
 *   stored bars with the same feature code as training) against the model's training rows' quantile bins;
 *   daily features are left out (a handful of values is no distribution);
 * - prediction drift: PSI of the window's scores against the model's out-of-sample scores;
 * - realised against expected performance: every prediction of the day whose horizon ended inside the stored
 *   bars is scored as if its direction were traded — return sign(expected return) × realised return, minus a
 *   cost per unit of position — and its hit rate and mean return are set against the same quantities of the
 *   model's out-of-sample record, through the sequential tests (src/learning/sequential.ts).
 *
 * Only what was known by the day's close is read: the day's bars, the day's predictions, outcomes whose horizon
 * ended by the close, and the model's own state of its previous drift day.
 */
import type {
  DriftReportDto,
  LearningConfig,
  RegimeSnapshotDto,
  SequentialStateDto,
} from '../../contracts/learning';
import { columnPsi, psi, type ReferenceBins } from './psi';
import { CUSUM_START, SPRT_START, cusumUpdate, sprtUpdate, standardisedShortfall } from './sequential';

/** The out-of-sample record on the drift monitor's terms (direction traded, unit position). */
export interface PerformanceReference {
  readonly hitRate: number;
  readonly meanReturn: number;
  readonly sdReturn: number;
  readonly rows: number;
}

/** What a model carries in the registry for drift: `metrics.drift`. */
export interface DriftReference {
  readonly features?: Readonly<Record<string, ReferenceBins>>;
  readonly scores?: ReferenceBins;
  readonly performance?: PerformanceReference;
  /** the cost rate the performance reference was computed with */
  readonly costRate?: number;
}

/** Return of trading a prediction's direction with a unit position: sign(expected) × realised − cost. */
export function directionReturn(expected: number, realised: number, costRate: number): number {
  const p = Math.sign(expected);
  return p * realised - costRate * Math.abs(p);
}

/** A hit: the predicted direction was right (a zero prediction is neither hit nor miss: not counted). */
export function isHit(expected: number, realised: number): boolean | null {
  if (expected === 0 || realised === 0) return null;
  return Math.sign(expected) === Math.sign(realised);
}

/** The performance reference of out-of-sample scores against their realised forward returns. */
export function performanceReference(
  scores: ArrayLike<number>,
  forwardReturn: ArrayLike<number>,
  costRate: number,
): PerformanceReference {
  let hits = 0;
  let counted = 0;
  let s = 0;
  let q = 0;
  const n = Math.min(scores.length, forwardReturn.length);
  for (let i = 0; i < n; i++) {
    const h = isHit(scores[i]!, forwardReturn[i]!);
    if (h !== null) {
      counted++;
      if (h) hits++;
    }
    const r = directionReturn(scores[i]!, forwardReturn[i]!, costRate);
    s += r;
    q += r * r;
  }
  const mean = n > 0 ? s / n : 0;
  const sd = n > 1 ? Math.sqrt(Math.max(0, (q - n * mean * mean) / (n - 1))) : 0;
  return { hitRate: counted > 0 ? hits / counted : 0.5, meanReturn: mean, sdReturn: sd, rows: n };
}

/** A prediction with its realised outcome. */
export interface RealisedPrediction {
  readonly symbol: string;
  readonly ts: number;
  readonly expectedReturn: number;
  readonly realised: number;
}

/**
 * Realised returns of predictions from minute closes: close at ts + horizon / close at ts − 1, where the close
 * at time T is the close of the 1m bar that ended at T. A prediction whose bars are missing (its horizon ends
 * after the stored bars, in another session, or in a gap) has no outcome and is left out.
 */
export function realise(
  preds: ReadonlyArray<{
    readonly symbol: string;
    readonly ts: number;
    readonly expectedReturn: number;
    readonly horizonBars: number;
    readonly barMs: number;
  }>,
  closeAt: (symbol: string, t: number) => number | undefined,
  until: number,
): RealisedPrediction[] {
  const out: RealisedPrediction[] = [];
  for (const p of preds) {
    const end = p.ts + p.horizonBars * p.barMs;
    if (end > until) continue;
    const c0 = closeAt(p.symbol, p.ts);
    const c1 = closeAt(p.symbol, end);
    if (c0 === undefined || c1 === undefined || !(c0 > 0)) continue;
    out.push({ symbol: p.symbol, ts: p.ts, expectedReturn: p.expectedReturn, realised: c1 / c0 - 1 });
  }
  return out;
}

export interface DriftInputs {
  readonly modelId: string;
  readonly name: string;
  readonly day: string;
  readonly reference: DriftReference;
  /** trading days the feature rows and scores cover */
  readonly windowDays: number;
  /** the window's feature rows, row-major, in `featureNames` order */
  readonly features: {
    readonly X: ArrayLike<number>;
    readonly rows: number;
    readonly names: readonly string[];
  } | null;
  /** the model's scores in the window */
  readonly scores: ArrayLike<number>;
  /** features left out of the feature PSI (e.g. daily features: one value a day is no distribution) */
  readonly skipFeatures?: ReadonlySet<string>;
  /** the day's predictions with a known outcome */
  readonly realised: readonly RealisedPrediction[];
  /** the model's sequential state after its previous drift day (null: its first) */
  readonly previous: SequentialStateDto | null;
  readonly regime: RegimeSnapshotDto | null;
  readonly config: LearningConfig;
}

/** The day's drift report of one model. */
export function driftReport(i: DriftInputs): DriftReportDto {
  const c = i.config;
  const reasons: string[] = [];
  // ---- features
  let featurePsi: Record<string, number> = {};
  if (i.features && i.features.rows > 0 && i.reference.features) {
    const ref = Object.fromEntries(
      Object.entries(i.reference.features).filter(([k]) => !i.skipFeatures?.has(k)),
    );
    featurePsi = columnPsi(ref, i.features.X, i.features.rows, i.features.names);
  }
  const finite = Object.entries(featurePsi).filter(([, v]) => Number.isFinite(v));
  const drifted = finite
    .filter(([, v]) => v > c.featurePsiThreshold)
    .sort((a, b) => b[1] - a[1])
    .map(([k]) => k);
  const maxFeaturePsi = finite.length ? Math.max(...finite.map(([, v]) => v)) : null;
  const featureAlarm = finite.length > 0 && drifted.length / finite.length >= c.featureBreachShare;
  if (featureAlarm)
    reasons.push(
      `${drifted.length} of ${finite.length} features drifted (PSI > ${c.featurePsiThreshold}; worst ${drifted[0]} ${featurePsi[drifted[0]!]!.toFixed(3)})`,
    );
  // ---- scores
  const predictionPsi = i.reference.scores && i.scores.length > 0 ? psi(i.reference.scores, i.scores) : null;
  const predictionAlarm = predictionPsi !== null && predictionPsi > c.predictionPsiThreshold;
  if (predictionAlarm)
    reasons.push(`prediction PSI ${predictionPsi.toFixed(3)} > ${c.predictionPsiThreshold}`);
  // ---- realised vs expected
  let hits = 0;
  let counted = 0;
  let sum = 0;
  for (const r of i.realised) {
    const h = isHit(r.expectedReturn, r.realised);
    if (h !== null) {
      counted++;
      if (h) hits++;
    }
    sum += directionReturn(r.expectedReturn, r.realised, c.costRate);
  }
  const n = i.realised.length;
  const perf = i.reference.performance ?? null;
  const prev = i.previous ?? { sprt: SPRT_START, cusum: CUSUM_START, z: null };
  let sprt = prev.sprt;
  let cusum = prev.cusum;
  let z: number | null = null;
  if (perf && n > 0) {
    const p0 = Math.min(0.99, Math.max(0.5, perf.hitRate));
    sprt = sprtUpdate(sprt, hits, counted, { p0, ...c.sprt });
    const zz = standardisedShortfall(sum / n, n, perf.meanReturn, perf.sdReturn);
    if (Number.isFinite(zz)) {
      z = zz;
      cusum = cusumUpdate(cusum, zz, c.cusum);
    }
  }
  const performanceAlarm = sprt.verdict === 'degraded' || cusum.alarm;
  if (sprt.verdict === 'degraded')
    reasons.push(
      `SPRT: live hit rate below the out-of-sample ${perf!.hitRate.toFixed(3)} (LLR ${sprt.llr.toFixed(2)} over ${sprt.n} predictions)`,
    );
  if (cusum.alarm)
    reasons.push(
      `CUSUM: live returns below the out-of-sample mean (S = ${cusum.s.toFixed(2)} > ${c.cusum.h} after ${cusum.days} days)`,
    );
  const distributionAlarm = featureAlarm || predictionAlarm;
  return {
    modelId: i.modelId,
    name: i.name,
    day: i.day,
    windowDays: i.windowDays,
    featureRows: i.features?.rows ?? 0,
    featurePsi,
    maxFeaturePsi,
    driftedFeatures: drifted,
    predictionRows: i.scores.length,
    predictionPsi: predictionPsi !== null && Number.isFinite(predictionPsi) ? predictionPsi : null,
    live: {
      rows: n,
      hitRate: counted > 0 ? hits / counted : null,
      meanReturn: n > 0 ? sum / n : null,
      pnl: sum,
    },
    expected: perf,
    sequential: { sprt, cusum, z },
    regime: i.regime,
    performanceAlarm,
    distributionAlarm,
    breach: performanceAlarm || distributionAlarm,
    reasons,
  };
}
