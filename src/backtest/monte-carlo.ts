/**
 * Monte Carlo robustness checks, seeded and deterministic. Two methods whose outcomes can differ from the
 * backtest's and from each other (a reshuffle of the same trades cannot: the compounded end is the same
 * product in any order):
 *  - trade resample: N trades drawn with replacement from the closed trades' returns on equity at entry, each
 *    applied to the path's equity at that point (re-sized: a trade risks a share of what the account has now);
 *  - block bootstrap: a moving block bootstrap of the period (daily) returns — blocks of `blockLength`
 *    consecutive periods drawn with replacement keep short-range dependence such as volatility clusters.
 * Both report the distribution of final equity and of max drawdown, and P(ruin) under the report's one ruin
 * definition (equity at or below (1 − ruinLoss) × starting equity at any step; see `ruinDefinition`).
 * A return below −100% cannot happen to an account: equity is floored at zero and stays there.
 */
import { mulberry32 } from '../model/random';
import { DEFAULT_RUIN_LOSS, ruinDefinition } from './metrics';

export type McMethod = 'trade-resample' | 'block-bootstrap';

export interface Quantiles {
  readonly p5: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
  readonly mean: number;
}

/** `counts.length` equal-width bins from `min` to `max` */
export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly counts: number[];
}

export interface McSummary {
  readonly method: McMethod;
  /** what was resampled, in words (shown in the report) */
  readonly description: string;
  readonly runs: number;
  /** steps per path: trades for the trade resample, periods for the bootstrap */
  readonly steps: number;
  /** block bootstrap only */
  readonly blockLength?: number;
  readonly finalEquity: Quantiles;
  /** peak-to-trough, as a fraction of the peak */
  readonly maxDrawdown: Quantiles;
  readonly ruinLoss: number;
  /** equity at or below which a path counts as ruined */
  readonly ruinLevel: number;
  /** share of paths that reached the ruin level */
  readonly probabilityOfRuin: number;
  readonly histogram: { readonly finalEquity: Histogram; readonly maxDrawdown: Histogram };
  /** equity quantiles at up to `fanPoints` steps, for the fan chart (step numbers are 1-based) */
  readonly fan: {
    readonly step: number[];
    readonly p5: number[];
    readonly p25: number[];
    readonly p50: number[];
    readonly p75: number[];
    readonly p95: number[];
  };
  readonly minEquity: number;
}

export interface McOptions {
  readonly runs?: number;
  readonly seed?: number;
  /** ruin = equity at or below (1 − ruinLoss) × starting equity; default 0.5 */
  readonly ruinLoss?: number;
  readonly fanPoints?: number;
  /** block length of the block bootstrap, in periods (default 20: about a trading month of days) */
  readonly blockLength?: number;
  readonly histogramBins?: number;
}

export const DEFAULT_BLOCK_LENGTH = 20;

function q(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[i]!;
}

function quantiles(sorted: Float64Array): Quantiles {
  let s = 0;
  for (const x of sorted) s += x;
  return {
    p5: q(sorted, 0.05),
    p25: q(sorted, 0.25),
    p50: q(sorted, 0.5),
    p75: q(sorted, 0.75),
    p95: q(sorted, 0.95),
    mean: sorted.length ? s / sorted.length : Number.NaN,
  };
}

function histogram(sorted: Float64Array, bins: number): Histogram {
  const min = sorted.length ? sorted[0]! : 0;
  const max = sorted.length ? sorted[sorted.length - 1]! : 0;
  const counts = new Array<number>(bins).fill(0);
  const w = (max - min) / bins;
  for (const x of sorted) counts[w > 0 ? Math.min(bins - 1, Math.floor((x - min) / w)) : 0]!++;
  return { min, max, counts };
}

function checkRuns(runs: number): number {
  if (!(Number.isInteger(runs) && runs >= 1)) throw new RangeError(`runs: ${runs} must be an integer >= 1`);
  return runs;
}

function simulate(
  method: McMethod,
  description: string,
  startEquity: number,
  steps: number,
  opts: McOptions,
  draw: (rng: () => number, out: Float64Array) => void,
  blockLength?: number,
): McSummary {
  const runs = checkRuns(opts.runs ?? 1000);
  const rng = mulberry32(opts.seed ?? 7);
  const ruin = ruinDefinition(startEquity, opts.ruinLoss ?? DEFAULT_RUIN_LOSS);
  const fanN = Math.max(1, Math.min(steps, opts.fanPoints ?? 100));
  const fanIdx = Array.from({ length: fanN }, (_, k) => Math.round(((k + 1) * steps) / fanN) - 1);
  const fanVals = fanIdx.map(() => new Float64Array(runs));
  const finals = new Float64Array(runs);
  const dds = new Float64Array(runs);
  let ruined = 0;
  let minEq = Infinity;
  const rets = new Float64Array(steps);
  for (let k = 0; k < runs; k++) {
    draw(rng, rets);
    let eq = startEquity;
    let peak = eq;
    let dd = 0;
    let f = 0;
    let hit = eq <= ruin.level;
    for (let i = 0; i < steps; i++) {
      eq = Math.max(0, eq * (1 + rets[i]!));
      if (eq > peak) peak = eq;
      const d = peak > 0 ? 1 - eq / peak : 1;
      if (d > dd) dd = d;
      if (eq < minEq) minEq = eq;
      if (eq <= ruin.level) hit = true;
      if (f < fanN && fanIdx[f] === i) fanVals[f++]![k] = eq;
    }
    finals[k] = eq;
    dds[k] = dd;
    if (hit) ruined++;
  }
  finals.sort();
  dds.sort();
  const fan = {
    step: fanIdx.map((i) => i + 1),
    p5: [] as number[],
    p25: [] as number[],
    p50: [] as number[],
    p75: [] as number[],
    p95: [] as number[],
  };
  for (const v of fanVals) {
    v.sort();
    fan.p5.push(q(v, 0.05));
    fan.p25.push(q(v, 0.25));
    fan.p50.push(q(v, 0.5));
    fan.p75.push(q(v, 0.75));
    fan.p95.push(q(v, 0.95));
  }
  const bins = opts.histogramBins ?? 24;
  return {
    method,
    description,
    runs,
    steps,
    ...(blockLength === undefined ? {} : { blockLength }),
    finalEquity: quantiles(finals),
    maxDrawdown: quantiles(dds),
    ruinLoss: ruin.lossFraction,
    ruinLevel: ruin.level,
    probabilityOfRuin: ruined / runs,
    histogram: { finalEquity: histogram(finals, bins), maxDrawdown: histogram(dds, bins) },
    fan,
    minEquity: steps === 0 ? startEquity : minEq,
  };
}

/**
 * Trade resample with re-sizing: each path draws as many trades as were closed, with replacement, and applies
 * each one's return on equity (P&L ÷ equity at its entry) to the path's equity at that point.
 */
export function monteCarloTradeResample(
  tradeReturns: readonly number[],
  startEquity: number,
  opts: McOptions = {},
): McSummary {
  const n = tradeReturns.length;
  const base = Float64Array.from(tradeReturns);
  return simulate(
    'trade-resample',
    `${n.toLocaleString('en-US')} trades drawn with replacement from the closed trades, each trade's return on equity applied to the path's equity at that point`,
    startEquity,
    n,
    opts,
    (rng, out) => {
      for (let i = 0; i < n; i++) out[i] = base[Math.floor(rng() * n)]!;
    },
  );
}

/**
 * Moving block bootstrap of period returns: blocks of `blockLength` consecutive returns, starting anywhere
 * in the sample, drawn with replacement until the path is as long as the sample.
 */
export function monteCarloBlockBootstrap(
  returns: ArrayLike<number>,
  startEquity: number,
  opts: McOptions & { readonly periodName?: string } = {},
): McSummary {
  const n = returns.length;
  const want = opts.blockLength ?? DEFAULT_BLOCK_LENGTH;
  if (!(Number.isInteger(want) && want >= 1))
    throw new RangeError(`blockLength: ${want} must be an integer >= 1`);
  const b = Math.max(1, Math.min(n, want));
  const unit = opts.periodName ?? 'period';
  return simulate(
    'block-bootstrap',
    `moving block bootstrap of ${n.toLocaleString('en-US')} ${unit} returns, block length ${b} ${unit === 'daily' ? 'days' : 'periods'}, blocks drawn with replacement`,
    startEquity,
    n,
    opts,
    (rng, out) => {
      let i = 0;
      while (i < n) {
        const s = Math.floor(rng() * Math.max(1, n - b + 1));
        for (let k = 0; k < b && i < n; k++) out[i++] = returns[s + k]!;
      }
    },
    b,
  );
}
