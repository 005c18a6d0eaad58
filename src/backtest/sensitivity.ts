/**
 * Parameter sensitivity grids and walk-forward backtests. Both re-run the same engine with the same strategy
 * code; walk-forward picks parameters on each in-sample window only and reports the next, unseen window, so
 * every walk-forward number is out of sample.
 */
import type { Strategy } from '../strategy/types';
import { runBacktest, type BacktestConfig, type BacktestResult } from './engine';
import { computeMetrics, type BacktestMetrics, type MetricsOptions } from './metrics';

export type ParamGrid = Readonly<Record<string, readonly number[]>>;
export type ParamSet = Readonly<Record<string, number>>;

/** Cartesian product of the grid, in a stable order (keys sorted, values as given). */
export function expandGrid(grid: ParamGrid): ParamSet[] {
  const keys = Object.keys(grid).sort();
  let out: Record<string, number>[] = [{}];
  for (const k of keys) {
    const vals = grid[k]!;
    if (vals.length === 0) throw new RangeError(`grid.${k}: needs at least one value`);
    const next: Record<string, number>[] = [];
    for (const o of out) for (const v of vals) next.push({ ...o, [k]: v });
    out = next;
  }
  return out;
}

export interface SensitivityRow {
  readonly params: ParamSet;
  readonly metrics: BacktestMetrics;
  readonly orderHash: string;
}

export type Objective = 'sharpe' | 'netProfit' | 'calmar' | 'sortino';

export function objectiveValue(m: BacktestMetrics, o: Objective): number {
  const v = m[o];
  return v === null || !Number.isFinite(v) ? -Infinity : v;
}

/**
 * Runs the backtest once per grid point; `build` makes a fresh strategy (strategies hold state). `metrics`
 * carries the annualisation and ruin settings of the report.
 */
export function sensitivityGrid(
  base: Omit<BacktestConfig, 'strategy'>,
  grid: ParamGrid,
  build: (p: ParamSet) => Strategy,
  metrics: MetricsOptions = {},
): SensitivityRow[] {
  return expandGrid(grid).map((params) => {
    const r = runBacktest({ ...base, strategy: build(params) });
    return { params, metrics: computeMetrics(r, metrics), orderHash: r.orderHash };
  });
}

export interface WalkForwardFold {
  readonly inSample: { readonly from: number; readonly to: number };
  readonly outOfSample: { readonly from: number; readonly to: number };
  readonly chosen: ParamSet;
  readonly inSampleObjective: number;
  readonly outOfSampleMetrics: BacktestMetrics;
  readonly result: BacktestResult;
}

export interface WalkForwardOptions {
  readonly from: number;
  readonly to: number;
  readonly folds: number;
  /** in-sample window length as a multiple of the out-of-sample one */
  readonly inSampleRatio?: number;
  readonly objective?: Objective;
  /** bars before each window that the strategy may use to warm up */
  readonly warmUpMs?: number;
  /** annualisation and ruin settings for the fold metrics */
  readonly metrics?: MetricsOptions;
}

/**
 * Anchored-length rolling walk-forward: [from, to) is cut into `folds` out-of-sample windows preceded by an
 * in-sample window `inSampleRatio` times as long. The first out-of-sample window starts after the first
 * in-sample window.
 */
export function walkForward(
  base: Omit<BacktestConfig, 'strategy' | 'from' | 'to' | 'tradeFrom'>,
  grid: ParamGrid,
  build: (p: ParamSet) => Strategy,
  opts: WalkForwardOptions,
): WalkForwardFold[] {
  const ratio = opts.inSampleRatio ?? 3;
  const objective = opts.objective ?? 'sharpe';
  if (!(opts.folds >= 1)) throw new RangeError(`folds: ${opts.folds} must be >= 1`);
  const span = opts.to - opts.from;
  const oos = span / (opts.folds + ratio);
  if (!(oos > 0)) throw new RangeError('from/to: the range is empty');
  const warm = opts.warmUpMs ?? 0;
  const folds: WalkForwardFold[] = [];
  const sets = expandGrid(grid);
  for (let k = 0; k < opts.folds; k++) {
    const oosFrom = Math.round(opts.from + (ratio + k) * oos);
    const oosTo = k === opts.folds - 1 ? opts.to : Math.round(oosFrom + oos);
    const isFrom = Math.round(oosFrom - ratio * oos);
    let best = sets[0]!;
    let bestV = -Infinity;
    for (const p of sets) {
      const r = runBacktest({
        ...base,
        strategy: build(p),
        from: isFrom - warm,
        to: oosFrom,
        tradeFrom: isFrom,
      });
      const v = objectiveValue(computeMetrics(r, opts.metrics), objective);
      if (v > bestV) {
        bestV = v;
        best = p;
      }
    }
    const result = runBacktest({
      ...base,
      strategy: build(best),
      from: oosFrom - warm,
      to: oosTo,
      tradeFrom: oosFrom,
    });
    folds.push({
      inSample: { from: isFrom, to: oosFrom },
      outOfSample: { from: oosFrom, to: oosTo },
      chosen: best,
      inSampleObjective: bestV,
      outOfSampleMetrics: computeMetrics(result, opts.metrics),
      result,
    });
  }
  return folds;
}
