/**
 * The honest scoreboard of a model backtest: is the model's edge real, and is trading it better than not?
 *
 * - Prediction quality, out of sample, per walk-forward window: rank IC (Spearman of the score against the
 *   realized forward return over the model's horizon, all rows of the window pooled), hit rate (the sign agrees),
 *   and over all windows the mean IC with its t-statistic; with at least 5 symbols also the mean cross-sectional
 *   IC (per decision time, the Qlib/Alphalens reading).
 * - P&L by model (each window's model id on its trades) and per window.
 * - Baselines on the same bars, from the same first out-of-sample instant, through the same kernel with the same
 *   fills and costs: buy-and-hold of the universe (equal weight), of a benchmark symbol, the strategy on its own
 *   indicator signals (what a session trades without a champion), and flat.
 * - The deflated Sharpe ratio (Bailey & López de Prado, 2014): the probability that the true Sharpe ratio is
 *   above zero after the best of `trials` configurations was picked, corrected for the return series' skew and
 *   kurtosis. Without the trials' own Sharpe ratios, their variance is the Sharpe estimator's variance under the
 *   null (1 / (T − 1)): exact when every trial was noise, which is the hypothesis being tested.
 */
import type { ScoredSeries, SymbolMatrix } from '../models/serving/model-port';
import { spearman } from '../models/validation/evaluate';
import { normalCdf } from '../models/serving/confidence';
import type { BacktestResult } from './engine';
import { attribute, curveMetrics, periodReturns, type AttributionRow, type MetricsOptions } from './metrics';

export interface ScoredWindow {
  readonly modelId: string;
  readonly trainFrom: number;
  readonly trainTo: number;
  readonly testFrom: number;
  readonly testTo: number;
  readonly series: readonly ScoredSeries[];
}

export interface WindowScore {
  readonly modelId: string;
  readonly trainFrom: number;
  readonly trainTo: number;
  readonly testFrom: number;
  readonly testTo: number;
  /** predictions whose horizon has a realized return in the data */
  readonly predictions: number;
  readonly rankIc: number | null;
  readonly hitRate: number | null;
  /** trades closed in the window, and their net P&L (dollars, after costs) */
  readonly trades: number;
  readonly netPnl: number;
}

export interface BaselineRow {
  readonly name: string;
  readonly description: string;
  readonly netProfit: number;
  readonly totalReturn: number;
  readonly sharpe: number | null;
  readonly maxDrawdown: number;
  readonly trades: number;
  /** commissions, regulatory and borrow fees (slippage is in the fill prices) */
  readonly costs: number;
}

export interface DeflatedSharpe {
  /** Sharpe ratio per period (daily), not annualised */
  readonly sharpe: number;
  readonly annualised: number | null;
  readonly observations: number;
  readonly skew: number;
  /** raw kurtosis (3 for a normal distribution) */
  readonly kurtosis: number;
  readonly trials: number;
  /** the Sharpe ratio (per period) the best of `trials` noise configurations would reach: the bar to clear */
  readonly expectedMaxSharpe: number;
  /** P(true Sharpe > 0) after selection: below 0.95 the result is not significant */
  readonly probability: number;
}

export interface Scoreboard {
  /** what the predictions came from: `walk-forward <kind> on <set>` or a registered model id */
  readonly model: string;
  readonly strategy: string;
  readonly featureSet: string;
  readonly horizonBars: number;
  /** the first instant any strategy of the board may trade (the first window's start) */
  readonly tradeFrom: number;
  readonly windows: readonly WindowScore[];
  readonly overall: {
    readonly predictions: number;
    readonly rankIc: number | null;
    readonly meanWindowIc: number | null;
    readonly icTStat: number | null;
    readonly crossSectionalIc: number | null;
    readonly hitRate: number | null;
  };
  readonly pnlByModel: readonly AttributionRow[];
  /** the model strategy first, then the baselines */
  readonly baselines: readonly BaselineRow[];
  readonly deflatedSharpe: DeflatedSharpe | null;
  /** plain sentences: what the board shows, no claim beyond it */
  readonly verdict: readonly string[];
}

/** Per symbol, decision time → forward return over `horizonBars` base bars (rows whose horizon is in the data). */
export function forwardReturns(
  mats: readonly SymbolMatrix[],
  horizonBars: number,
): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const { symbol, matrix, close } of mats) {
    const m = new Map<number, number>();
    for (let r = 0; r + horizonBars < matrix.rows; r++) {
      const c0 = close[r]!;
      const c1 = close[r + horizonBars]!;
      if (c0 > 0 && c1 > 0) m.set(matrix.availableAt[r]!, c1 / c0 - 1);
    }
    out.set(symbol, m);
  }
  return out;
}

function pairsOf(
  series: readonly ScoredSeries[],
  realized: ReadonlyMap<string, ReadonlyMap<number, number>>,
): { score: number[]; ret: number[]; ts: number[] } {
  const out = { score: [] as number[], ret: [] as number[], ts: [] as number[] };
  for (const s of series) {
    const real = realized.get(s.symbol);
    if (!real) continue;
    for (let k = 0; k < s.ts.length; k++) {
      const y = real.get(s.ts[k]!);
      if (y === undefined || !Number.isFinite(s.score[k]!)) continue;
      out.score.push(s.score[k]!);
      out.ret.push(y);
      out.ts.push(s.ts[k]!);
    }
  }
  return out;
}

function hitRate(score: readonly number[], ret: readonly number[]): number | null {
  let n = 0;
  let hit = 0;
  for (let i = 0; i < score.length; i++) {
    if (score[i] === 0 || ret[i] === 0) continue;
    n++;
    if (Math.sign(score[i]!) === Math.sign(ret[i]!)) hit++;
  }
  return n ? hit / n : null;
}

const ic = (a: readonly number[], b: readonly number[]): number | null =>
  a.length >= 10 ? spearman(a, b) : null;

/** Mean per-decision-time Spearman over times with at least `minNames` names (null when none qualifies). */
function crossSectionalIc(p: { score: number[]; ret: number[]; ts: number[] }, minNames = 5): number | null {
  const byTs = new Map<number, number[]>();
  p.ts.forEach((t, i) => {
    let l = byTs.get(t);
    if (!l) byTs.set(t, (l = []));
    l.push(i);
  });
  let sum = 0;
  let n = 0;
  for (const idx of byTs.values()) {
    if (idx.length < minNames) continue;
    sum += spearman(
      idx.map((i) => p.score[i]!),
      idx.map((i) => p.ret[i]!),
    );
    n++;
  }
  return n ? sum / n : null;
}

/** Acklam's rational approximation of the standard normal quantile (|relative error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: ${p} must be in (0, 1)`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * The deflated Sharpe ratio of a per-period return series after `trials` configurations were tried
 * (Bailey & López de Prado, "The Deflated Sharpe Ratio", 2014, eq. 9–10). `trialVariance`: the variance of the
 * trials' per-period Sharpe ratios, when known; else the estimator's variance under the null, 1 / (T − 1).
 */
export function deflatedSharpe(
  returns: ArrayLike<number>,
  trials: number,
  periodsPerYear: number,
  trialVariance?: number,
): DeflatedSharpe | null {
  if (!(Number.isInteger(trials) && trials >= 1))
    throw new RangeError(`trials: ${trials} must be an integer >= 1`);
  const T = returns.length;
  if (T < 3) return null;
  let m = 0;
  for (let i = 0; i < T; i++) m += returns[i]!;
  m /= T;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < T; i++) {
    const x = returns[i]! - m;
    m2 += x * x;
    m3 += x * x * x;
    m4 += x * x * x * x;
  }
  m2 /= T;
  m3 /= T;
  m4 /= T;
  if (!(m2 > 0)) return null;
  const sd = Math.sqrt(m2);
  const sr = m / sd;
  const skew = m3 / sd ** 3;
  const kurtosis = m4 / (m2 * m2);
  const v = trialVariance ?? 1 / (T - 1);
  const sr0 =
    trials <= 1
      ? 0
      : Math.sqrt(v) *
        ((1 - EULER_GAMMA) * normalQuantile(1 - 1 / trials) +
          EULER_GAMMA * normalQuantile(1 - 1 / (trials * Math.E)));
  const denom = 1 - skew * sr + ((kurtosis - 1) / 4) * sr * sr;
  const z =
    denom > 0 ? ((sr - sr0) * Math.sqrt(T - 1)) / Math.sqrt(denom) : sr - sr0 > 0 ? Infinity : -Infinity;
  return {
    sharpe: sr,
    annualised: periodsPerYear > 0 ? sr * Math.sqrt(periodsPerYear) : null,
    observations: T,
    skew,
    kurtosis,
    trials,
    expectedMaxSharpe: sr0,
    probability: normalCdf(z),
  };
}

/** A result's equity curve from the last point before `from` (its start) to the end. */
export function curveFrom(
  r: BacktestResult,
  from: number,
): { ts: Float64Array; equity: Float64Array; start: number } {
  let k = 0;
  while (k < r.equityTs.length && r.equityTs[k]! < from) k++;
  const first = Math.max(0, k - 1);
  const start = k > 0 ? r.equity[k - 1]! : r.startingCash;
  return { ts: r.equityTs.slice(first), equity: r.equity.slice(first), start };
}

/** One strategy's row of the baseline table, measured from `from`. */
export function baselineRow(
  name: string,
  description: string,
  r: BacktestResult,
  from: number,
  opts: MetricsOptions,
): BaselineRow {
  const c = curveFrom(r, from);
  const m = curveMetrics(c.ts, c.equity, c.start, opts);
  const a = r.finalAccount;
  return {
    name,
    description,
    netProfit: m.endEquity - c.start,
    totalReturn: m.totalReturn,
    sharpe: m.sharpe,
    maxDrawdown: m.maxDrawdown,
    trades: r.trades.filter((t) => t.exitTs >= from).length,
    costs: a.commissions + a.regulatoryFees + a.borrowFees,
  };
}

export const FLAT_BASELINE: BaselineRow = {
  name: 'flat',
  description: 'no positions: zero P&L, zero risk',
  netProfit: 0,
  totalReturn: 0,
  sharpe: null,
  maxDrawdown: 0,
  trades: 0,
  costs: 0,
};

export interface ScoreboardInput {
  readonly model: string;
  readonly strategy: string;
  readonly featureSet: string;
  readonly horizonBars: number;
  readonly windows: readonly ScoredWindow[];
  readonly realized: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** the strategy trading the model's predictions */
  readonly result: BacktestResult;
  /** the other rows, measured the same way (buy-and-hold, indicator-only; flat is added) */
  readonly baselines: ReadonlyArray<{
    readonly name: string;
    readonly description: string;
    readonly result: BacktestResult;
  }>;
  /** configurations tried before this one was picked (the deflated Sharpe's N) */
  readonly trials: number;
  readonly metrics: MetricsOptions;
}

export function buildScoreboard(s: ScoreboardInput): Scoreboard {
  const tradeFrom = Math.min(...s.windows.map((w) => w.testFrom));
  const all = { score: [] as number[], ret: [] as number[], ts: [] as number[] };
  const windows: WindowScore[] = s.windows.map((w) => {
    const p = pairsOf(w.series, s.realized);
    // element by element: a minute window holds more pairs than a spread's argument list may
    for (let i = 0; i < p.score.length; i++) {
      all.score.push(p.score[i]!);
      all.ret.push(p.ret[i]!);
      all.ts.push(p.ts[i]!);
    }
    const trades = s.result.trades.filter((t) => t.exitTs >= w.testFrom && t.exitTs < w.testTo);
    return {
      modelId: w.modelId,
      trainFrom: w.trainFrom,
      trainTo: w.trainTo,
      testFrom: w.testFrom,
      testTo: w.testTo,
      predictions: p.score.length,
      rankIc: ic(p.score, p.ret),
      hitRate: hitRate(p.score, p.ret),
      trades: trades.length,
      netPnl: trades.reduce((x, t) => x + t.pnl, 0),
    };
  });
  const ics = windows.map((w) => w.rankIc).filter((x): x is number => x !== null);
  const meanIc = ics.length ? ics.reduce((a, b) => a + b, 0) / ics.length : null;
  let tStat: number | null = null;
  if (meanIc !== null && ics.length >= 2) {
    const sd = Math.sqrt(ics.reduce((a, x) => a + (x - meanIc) ** 2, 0) / (ics.length - 1));
    tStat = sd > 0 ? (meanIc / sd) * Math.sqrt(ics.length) : null;
  }
  const symbols = new Set(s.windows.flatMap((w) => w.series.map((r) => r.symbol)));
  const modelRow = baselineRow(
    s.strategy,
    `${s.strategy} trading ${s.model}`,
    s.result,
    tradeFrom,
    s.metrics,
  );
  const rows = [
    modelRow,
    ...s.baselines.map((b) => baselineRow(b.name, b.description, b.result, tradeFrom, s.metrics)),
    FLAT_BASELINE,
  ];
  const c = curveFrom(s.result, tradeFrom);
  const pr = periodReturns(c.ts, c.equity, s.metrics);
  const dsr = deflatedSharpe(pr.returns, s.trials, pr.periodsPerYear);
  const overall = {
    predictions: all.score.length,
    rankIc: ic(all.score, all.ret),
    meanWindowIc: meanIc,
    icTStat: tStat,
    crossSectionalIc: symbols.size >= 5 ? crossSectionalIc(all) : null,
    hitRate: hitRate(all.score, all.ret),
  };
  return {
    model: s.model,
    strategy: s.strategy,
    featureSet: s.featureSet,
    horizonBars: s.horizonBars,
    tradeFrom,
    windows,
    overall,
    pnlByModel: attribute(s.result.trades.filter((t) => t.exitTs >= tradeFrom)).byModel,
    baselines: rows,
    deflatedSharpe: dsr,
    verdict: verdictOf(modelRow, rows.slice(1), overall, dsr),
  };
}

function verdictOf(
  model: BaselineRow,
  others: readonly BaselineRow[],
  overall: Scoreboard['overall'],
  dsr: DeflatedSharpe | null,
): string[] {
  const usd = (x: number) => `${x < 0 ? '-' : '+'}$${Math.abs(x).toFixed(2)}`;
  const out: string[] = [];
  out.push(
    `${model.name} net ${usd(model.netProfit)} after costs over the out-of-sample period (${model.trades} trades)${model.netProfit < 0 ? ': it LOST money' : ''}.`,
  );
  for (const o of others)
    out.push(
      `${model.netProfit > o.netProfit ? 'beats' : 'does NOT beat'} ${o.name} (${usd(o.netProfit)}) by net P&L` +
        (o.sharpe !== null && model.sharpe !== null
          ? `; Sharpe ${model.sharpe.toFixed(2)} vs ${o.sharpe.toFixed(2)}`
          : ''),
    );
  if (overall.rankIc !== null)
    out.push(
      `out-of-sample rank IC ${overall.rankIc.toFixed(4)} over ${overall.predictions} predictions` +
        (overall.icTStat !== null ? ` (per-window mean t = ${overall.icTStat.toFixed(2)})` : '') +
        (overall.hitRate !== null ? `, hit rate ${(overall.hitRate * 100).toFixed(1)}%` : ''),
    );
  else out.push('too few predictions with a realized return to measure the rank IC');
  if (dsr)
    out.push(
      `deflated Sharpe ratio ${dsr.probability.toFixed(3)} for ${dsr.trials} trial${dsr.trials === 1 ? '' : 's'} ` +
        `(${dsr.probability >= 0.95 ? 'significant at 95%' : 'NOT significant at 95%'})`,
    );
  return out;
}
