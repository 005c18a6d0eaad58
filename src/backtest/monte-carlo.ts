/**
 * Monte Carlo robustness checks, seeded and deterministic.
 *  - trade order: the closed trades' returns on equity are shuffled and compounded again, so each trade is
 *    re-sized to the equity of its new position in the path (sizing re-applied, not dollar P&L replayed);
 *  - resampled returns: a block bootstrap of the period returns (blocks keep short-range dependence).
 * A return below −100% cannot happen to an account: equity is floored at zero and stays there (ruin).
 */
import { mulberry32 } from '../model/random';

export interface McSummary {
  readonly runs: number;
  readonly finalEquity: {
    readonly p5: number;
    readonly p25: number;
    readonly p50: number;
    readonly p75: number;
    readonly p95: number;
  };
  readonly maxDrawdown: { readonly p50: number; readonly p95: number };
  /** share of paths whose drawdown reached `ruinDrawdown` */
  readonly probabilityOfRuin: number;
  /** equity quantiles at up to `fanPoints` steps, for the fan chart */
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
  readonly ruinDrawdown?: number;
  readonly fanPoints?: number;
  readonly blockSize?: number;
}

function q(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[i]!;
}

function simulate(
  startEquity: number,
  steps: number,
  opts: McOptions,
  draw: (rng: () => number, out: Float64Array) => void,
): McSummary {
  const runs = opts.runs ?? 1000;
  const rng = mulberry32(opts.seed ?? 7);
  const ruin = opts.ruinDrawdown ?? 0.5;
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
    for (let i = 0; i < steps; i++) {
      eq = Math.max(0, eq * (1 + rets[i]!));
      if (eq > peak) peak = eq;
      const d = peak > 0 ? 1 - eq / peak : 1;
      if (d > dd) dd = d;
      if (eq < minEq) minEq = eq;
      if (f < fanN && fanIdx[f] === i) fanVals[f++]![k] = eq;
    }
    finals[k] = eq;
    dds[k] = dd;
    if (dd >= ruin) ruined++;
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
  return {
    runs,
    finalEquity: {
      p5: q(finals, 0.05),
      p25: q(finals, 0.25),
      p50: q(finals, 0.5),
      p75: q(finals, 0.75),
      p95: q(finals, 0.95),
    },
    maxDrawdown: { p50: q(dds, 0.5), p95: q(dds, 0.95) },
    probabilityOfRuin: ruined / runs,
    fan,
    minEquity: steps === 0 ? startEquity : minEq,
  };
}

/** Shuffles the order of trade returns (on equity at entry) and compounds them again. */
export function monteCarloTradeOrder(
  tradeReturns: readonly number[],
  startEquity: number,
  opts: McOptions = {},
): McSummary {
  const n = tradeReturns.length;
  const base = Float64Array.from(tradeReturns);
  return simulate(startEquity, n, opts, (rng, out) => {
    out.set(base);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
  });
}

/** Block bootstrap of period returns (with replacement). */
export function monteCarloBootstrap(
  returns: ArrayLike<number>,
  startEquity: number,
  opts: McOptions = {},
): McSummary {
  const n = returns.length;
  const b = Math.max(1, Math.min(n, opts.blockSize ?? 5));
  return simulate(startEquity, n, opts, (rng, out) => {
    let i = 0;
    while (i < n) {
      const s = Math.floor(rng() * Math.max(1, n - b + 1));
      for (let k = 0; k < b && i < n; k++) out[i++] = returns[s + k]!;
    }
  });
}
