/**
 * Performance statistics and dollar P&L attribution for a backtest result. Returns are measured per New York
 * trading day when the run spans at least `minDaysForDaily` days (annualised with 252), otherwise per bar
 * (annualised with the number of such bars in 252 regular sessions). Ratios with a zero denominator are
 * reported as null rather than Infinity so they survive JSON.
 */
import { nyOffsetMs } from '../market/calendar';
import type { BacktestResult, TradeRecord } from './engine';

export interface BacktestMetrics {
  readonly startEquity: number;
  readonly endEquity: number;
  readonly netProfit: number;
  readonly totalReturn: number;
  readonly cagr: number | null;
  readonly annualVolatility: number;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly calmar: number | null;
  readonly maxDrawdown: number;
  readonly maxDrawdownDurationMs: number;
  readonly trades: number;
  readonly winRate: number | null;
  readonly profitFactor: number | null;
  /** average net dollars per trade */
  readonly expectancy: number | null;
  readonly avgWin: number | null;
  readonly avgLoss: number | null;
  /** one-period 95% value at risk and expected shortfall, as positive fractions of equity */
  readonly var95: number;
  readonly es95: number;
  /** probability of a 50% drawdown (drift-diffusion approximation over per-trade returns) */
  readonly riskOfRuin: number | null;
  /** share of time with any position open */
  readonly exposure: number;
  readonly avgGrossExposure: number;
  /** traded notional / average equity, annualised */
  readonly turnover: number;
  readonly totalCosts: number;
  readonly periods: number;
  readonly periodsPerYear: number;
  readonly returnBasis: 'daily' | 'bar';
}

export interface AttributionRow {
  readonly key: string;
  readonly pnl: number;
  readonly trades: number;
  readonly winRate: number;
}

export interface Attribution {
  readonly byTicker: AttributionRow[];
  readonly byTimeframe: AttributionRow[];
  readonly byTier: AttributionRow[];
  readonly byModel: AttributionRow[];
}

const YEAR_MS = 365.25 * 86_400_000;
const DAY_MS = 86_400_000;

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : 0;
}

function std(xs: ArrayLike<number>, m = mean(xs)): number {
  if (xs.length < 2) return 0;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

const ratio = (a: number, b: number): number | null => (b === 0 || !Number.isFinite(a / b) ? null : a / b);

/** Period returns from an equity curve: daily closes (NY date) or per point. */
export function periodReturns(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
  minDaysForDaily = 20,
): { returns: Float64Array; basis: 'daily' | 'bar'; periodsPerYear: number } {
  const n = equity.length;
  if (n < 2) return { returns: new Float64Array(0), basis: 'bar', periodsPerYear: 252 };
  const dayEnd: number[] = [];
  // New York day boundaries computed arithmetically; nyOffsetMs is only called when a boundary is crossed
  let nextBoundary = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = ts[i]! - 1; // a point at exactly midnight closes the previous day
    if (t >= nextBoundary) {
      const off = nyOffsetMs(t);
      const day = Math.floor((t + off) / DAY_MS);
      nextBoundary = (day + 1) * DAY_MS - off;
      dayEnd.push(equity[i]!);
    } else dayEnd[dayEnd.length - 1] = equity[i]!;
  }
  if (dayEnd.length > minDaysForDaily) {
    const r = new Float64Array(dayEnd.length - 1);
    for (let i = 1; i < dayEnd.length; i++)
      r[i - 1] = dayEnd[i - 1]! > 0 ? dayEnd[i]! / dayEnd[i - 1]! - 1 : 0;
    return { returns: r, basis: 'daily', periodsPerYear: 252 };
  }
  const r = new Float64Array(n - 1);
  const gaps: number[] = [];
  for (let i = 1; i < n; i++) {
    r[i - 1] = equity[i - 1]! > 0 ? equity[i]! / equity[i - 1]! - 1 : 0;
    if (gaps.length < 1000) gaps.push(ts[i]! - ts[i - 1]!);
  }
  gaps.sort((a, b) => a - b);
  const barMs = Math.max(60_000, gaps[gaps.length >> 1] ?? 60_000);
  return { returns: r, basis: 'bar', periodsPerYear: 252 * Math.max(1, (390 * 60_000) / barMs) };
}

export function maxDrawdown(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
): { maxDrawdown: number; durationMs: number; drawdown: Float64Array } {
  const n = equity.length;
  const dd = new Float64Array(n);
  let peak = -Infinity;
  let peakTs = n ? ts[0]! : 0;
  let max = 0;
  let dur = 0;
  for (let i = 0; i < n; i++) {
    const e = equity[i]!;
    if (e >= peak) {
      peak = e;
      peakTs = ts[i]!;
    }
    const d = peak > 0 ? 1 - e / peak : 0;
    dd[i] = d;
    if (d > max) max = d;
    if (d > 0 && ts[i]! - peakTs > dur) dur = ts[i]! - peakTs;
  }
  return { maxDrawdown: max, durationMs: dur, drawdown: dd };
}

/** Historical VaR/ES at `level` of a return sample, as positive loss fractions. */
export function valueAtRisk(returns: ArrayLike<number>, level = 0.95): { var: number; es: number } {
  if (returns.length === 0) return { var: 0, es: 0 };
  const s = Float64Array.from(returns).sort();
  const k = Math.max(0, Math.floor((1 - level) * s.length) - 0);
  const idx = Math.min(s.length - 1, k);
  const v = -s[idx]!;
  let sum = 0;
  for (let i = 0; i <= idx; i++) sum += s[i]!;
  return { var: Math.max(0, v), es: Math.max(0, -sum / (idx + 1)) };
}

/** Probability of losing `ruin` of equity, Brownian approximation: exp(−2 μ D / σ²) with per-trade log returns. */
export function riskOfRuin(tradeReturns: readonly number[], ruin = 0.5): number | null {
  if (tradeReturns.length < 2) return null;
  const lr = tradeReturns.map((r) => Math.log(Math.max(1e-12, 1 + r)));
  const m = mean(lr);
  const s = std(lr, m);
  if (m <= 0) return 1;
  if (s === 0) return 0;
  const d = -Math.log(1 - ruin);
  return Math.min(1, Math.exp((-2 * m * d) / (s * s)));
}

export function computeMetrics(r: BacktestResult): BacktestMetrics {
  const { equityTs: ts, equity } = r;
  const start = r.startingCash;
  const endEq = equity.length ? equity[equity.length - 1]! : start;
  const pr = periodReturns(ts, equity);
  const m = mean(pr.returns);
  const sd = std(pr.returns, m);
  let down = 0;
  for (const x of pr.returns) if (x < 0) down += x * x;
  const downDev = pr.returns.length ? Math.sqrt(down / pr.returns.length) : 0;
  const ann = Math.sqrt(pr.periodsPerYear);
  const span = ts.length ? ts[ts.length - 1]! - ts[0]! : 0;
  const years = span / YEAR_MS;
  const totalReturn = endEq / start - 1;
  const cagr = years > 0 && endEq > 0 ? (endEq / start) ** (1 / years) - 1 : null;
  const dd = maxDrawdown(ts, equity);
  const wins = r.trades.filter((t) => t.pnl > 0);
  const losses = r.trades.filter((t) => t.pnl <= 0);
  const grossWin = wins.reduce((s, t) => s + t.pnl, 0);
  const grossLoss = -losses.reduce((s, t) => s + t.pnl, 0);
  const v = valueAtRisk(pr.returns, 0.95);
  let invested = 0;
  for (const x of r.exposure) if (x > 0) invested++;
  const avgEq = mean(equity) || start;
  const costs = r.finalAccount.commissions + r.finalAccount.regulatoryFees + r.finalAccount.borrowFees;
  return {
    startEquity: start,
    endEquity: endEq,
    netProfit: endEq - start,
    totalReturn,
    cagr,
    annualVolatility: sd * ann,
    sharpe: ratio(m * ann, sd),
    sortino: ratio(m * ann, downDev),
    calmar: cagr === null ? null : ratio(cagr, dd.maxDrawdown),
    maxDrawdown: dd.maxDrawdown,
    maxDrawdownDurationMs: dd.durationMs,
    trades: r.trades.length,
    winRate: r.trades.length ? wins.length / r.trades.length : null,
    profitFactor: ratio(grossWin, grossLoss),
    expectancy: r.trades.length ? (grossWin - grossLoss) / r.trades.length : null,
    avgWin: wins.length ? grossWin / wins.length : null,
    avgLoss: losses.length ? -grossLoss / losses.length : null,
    var95: v.var,
    es95: v.es,
    riskOfRuin: riskOfRuin(r.trades.map((t) => t.returnOnEquity)),
    exposure: r.exposure.length ? invested / r.exposure.length : 0,
    avgGrossExposure: mean(r.exposure),
    turnover: years > 0 ? r.tradedNotional / avgEq / years : r.tradedNotional / avgEq,
    totalCosts: costs,
    periods: pr.returns.length,
    periodsPerYear: pr.periodsPerYear,
    returnBasis: pr.basis,
  };
}

function groupBy(trades: readonly TradeRecord[], key: (t: TradeRecord) => string): AttributionRow[] {
  const m = new Map<string, { pnl: number; n: number; w: number }>();
  for (const t of trades) {
    const k = key(t);
    const e = m.get(k) ?? { pnl: 0, n: 0, w: 0 };
    e.pnl += t.pnl;
    e.n++;
    if (t.pnl > 0) e.w++;
    m.set(k, e);
  }
  return [...m.entries()]
    .map(([k, e]) => ({ key: k, pnl: e.pnl, trades: e.n, winRate: e.w / e.n }))
    .sort((a, b) => b.pnl - a.pnl || (a.key < b.key ? -1 : 1));
}

/** Net dollar P&L of closed trades by ticker, timeframe, signal tier and model. */
export function attribute(trades: readonly TradeRecord[]): Attribution {
  return {
    byTicker: groupBy(trades, (t) => t.symbol),
    byTimeframe: groupBy(trades, (t) => t.timeframe),
    byTier: groupBy(trades, (t) => t.tier),
    byModel: groupBy(trades, (t) => t.model),
  };
}
