/**
 * One call from a backtest result to everything a report shows: metrics, attribution, Monte Carlo by method,
 * monthly returns, the positions still open at the end and a buy-and-hold benchmark on the same bars.
 */
import { calendarOf, closeOf } from '../trading/series';
import { instrumentFor } from '../model/instrument';
import type { BarColumns } from '../model/bar';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import type { BacktestResult } from './engine';
import {
  attribute,
  computeMetrics,
  curveMetrics,
  dailyCloses,
  periodReturns,
  type Attribution,
  type BacktestMetrics,
  type CurveMetrics,
  type MetricsOptions,
} from './metrics';
import {
  monteCarloBlockBootstrap,
  monteCarloTradeResample,
  type McOptions,
  type McSummary,
} from './monte-carlo';

export interface MonthlyReturnsRow {
  readonly year: number;
  /** January..December; null for a month the run did not cover */
  readonly months: ReadonlyArray<number | null>;
  /** the year's compounded return over the months covered */
  readonly total: number;
}

export interface OpenPosition {
  readonly symbol: string;
  /** signed: negative is short */
  readonly qty: number;
  readonly avgPrice: number;
  readonly lastPrice: number;
  readonly marketValue: number;
  readonly unrealizedPnl: number;
}

export interface BenchmarkCurve {
  /** what was bought and held, in words */
  readonly label: string;
  /** sampled at the run's equity timestamps */
  readonly ts: Float64Array;
  readonly equity: Float64Array;
}

export interface Benchmark extends BenchmarkCurve {
  readonly metrics: CurveMetrics;
}

export interface MonteCarloResults {
  readonly tradeResample?: McSummary;
  readonly blockBootstrap?: McSummary;
  /** end time of each bootstrap period, so the bootstrap fan can be drawn on the run's calendar */
  readonly bootstrapPeriodEnds?: readonly number[];
}

export interface Analysis {
  readonly metrics: BacktestMetrics;
  readonly attribution: Attribution;
  readonly monteCarlo: MonteCarloResults;
  readonly monthlyReturns: MonthlyReturnsRow[];
  readonly openPositions: OpenPosition[];
  readonly benchmark?: Benchmark;
}

export interface AnalysisOptions extends McOptions, MetricsOptions {
  /** the run's bars: they give the default benchmark (the universe, equal weight) */
  readonly series?: readonly BarColumns[];
  /**
   * Buy-and-hold benchmark on these bars (equal weight when several symbols). Default, when `series` is
   * given: the run's universe, equal weight.
   */
  readonly benchmark?: { readonly label: string; readonly series: readonly BarColumns[] };
}

/** Monthly (New York calendar) returns from an equity curve that starts at `startEquity`, by year. */
export function monthlyReturns(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
  startEquity: number,
): MonthlyReturnsRow[] {
  const d = dailyCloses(ts, equity);
  const rows: Array<{ year: number; months: Array<number | null>; total: number }> = [];
  let prevMonthEnd = startEquity;
  let yearStart = startEquity;
  let curKey = -1;
  let curEnd = startEquity;
  const close = () => {
    if (curKey < 0) return;
    const year = Math.floor(curKey / 12);
    let row = rows[rows.length - 1];
    if (!row || row.year !== year) {
      if (row) yearStart = prevMonthEnd;
      row = { year, months: new Array<number | null>(12).fill(null), total: 0 };
      rows.push(row);
    }
    row.months[curKey % 12] = prevMonthEnd > 0 ? curEnd / prevMonthEnd - 1 : 0;
    row.total = yearStart > 0 ? curEnd / yearStart - 1 : 0;
    prevMonthEnd = curEnd;
  };
  for (let i = 0; i < d.day.length; i++) {
    const date = new Date(d.day[i]! * 86_400_000);
    const key = date.getUTCFullYear() * 12 + date.getUTCMonth();
    if (key !== curKey) {
      close();
      curKey = key;
    }
    curEnd = d.equity[i]!;
  }
  close();
  return rows;
}

/** When a bar is final: the kernel's rule (a daily bar at its session's close; 24/7 markets at the day's end). */
export function barCloseMs(symbol: string, ts: number, tf: Timeframe): number {
  return closeOf(ts, tf, calendarOf(instrumentFor(symbol).calendar));
}

/** The positions the engine left open at the end, with market value and unrealized P&L at its last price. */
export function openPositionsAtEnd(r: Pick<BacktestResult, 'openPositions'>): OpenPosition[] {
  return r.openPositions
    .filter((p) => p.qty !== 0)
    .map((p) => ({
      symbol: p.symbol,
      qty: p.qty,
      avgPrice: p.avgPrice,
      lastPrice: p.lastPrice,
      marketValue: p.qty * p.lastPrice,
      unrealizedPnl: (p.lastPrice - p.avgPrice) * p.qty,
    }))
    .sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0));
}

/**
 * Buy-and-hold of `series` (equal weight across symbols, no rebalancing, no costs) sampled at `equityTs`:
 * each symbol's sleeve of `startEquity / symbols` is bought at the last close known at the first timestamp,
 * or at its first close when its history starts later (the sleeve is cash until then).
 */
export function buyAndHoldCurve(
  series: readonly BarColumns[],
  equityTs: ArrayLike<number>,
  startEquity: number,
  label: string,
): BenchmarkCurve {
  // one series per symbol: the finest timeframe
  const bySymbol = new Map<string, BarColumns>();
  for (const s of series) {
    if (s.ts.length === 0) continue;
    const cur = bySymbol.get(s.symbol);
    if (!cur || TIMEFRAME_MS[s.timeframe] < TIMEFRAME_MS[cur.timeframe]) bySymbol.set(s.symbol, s);
  }
  const legs = [...bySymbol.values()];
  const n = equityTs.length;
  const out = new Float64Array(n);
  if (legs.length === 0) {
    out.fill(startEquity);
    return { label, ts: Float64Array.from(equityTs), equity: out };
  }
  const sleeve = startEquity / legs.length;
  for (const s of legs) {
    let k = -1; // last bar closed by the current timestamp
    let nextClose = s.ts.length ? barCloseMs(s.symbol, s.ts[0]!, s.timeframe) : Infinity;
    let entry = 0;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const t = equityTs[i]!;
      while (nextClose <= t) {
        k++;
        nextClose = k + 1 < s.ts.length ? barCloseMs(s.symbol, s.ts[k + 1]!, s.timeframe) : Infinity;
      }
      if (k >= 0 && s.close[k]! > 0) {
        last = s.close[k]!;
        if (entry === 0) entry = last;
      }
      out[i]! += entry > 0 ? (sleeve * last) / entry : sleeve;
    }
  }
  return { label, ts: Float64Array.from(equityTs), equity: out };
}

export function analyse(r: BacktestResult, opts: AnalysisOptions = {}): Analysis {
  const metrics = computeMetrics(r, opts);
  const tradeReturns = r.trades.map((t) => t.returnOnEquity);
  const pr = periodReturns(r.equityTs, r.equity, opts);
  let benchmark: Benchmark | undefined;
  const spec =
    opts.benchmark ??
    (opts.series && opts.series.length
      ? {
          label: `buy-and-hold, equal weight: ${[...new Set(opts.series.map((s) => s.symbol))].join(', ')}`,
          series: opts.series,
        }
      : undefined);
  if (spec && r.equityTs.length > 0) {
    const curve = buyAndHoldCurve(spec.series, r.equityTs, r.startingCash, spec.label);
    benchmark = { ...curve, metrics: curveMetrics(curve.ts, curve.equity, r.startingCash, opts) };
  }
  return {
    metrics,
    attribution: attribute(r.trades),
    monteCarlo: {
      tradeResample:
        tradeReturns.length > 1 ? monteCarloTradeResample(tradeReturns, r.startingCash, opts) : undefined,
      blockBootstrap:
        pr.returns.length > 1
          ? monteCarloBlockBootstrap(pr.returns, r.startingCash, {
              ...opts,
              seed: (opts.seed ?? 7) + 1,
              periodName: pr.basis === 'daily' ? 'daily' : 'per-bar',
            })
          : undefined,
      bootstrapPeriodEnds: pr.returns.length > 1 ? Array.from(pr.ts) : undefined,
    },
    monthlyReturns: monthlyReturns(r.equityTs, r.equity, r.startingCash),
    openPositions: openPositionsAtEnd(r),
    benchmark,
  };
}
