/**
 * Performance statistics and dollar P&L attribution for a backtest result. Returns are measured per New York
 * day when the run spans more than `minDaysForDaily` days, otherwise per bar. Annualisation takes the trading
 * days per year of the instrument's market (`annualizationDays`: 252 for US equities, the default; 365 for
 * crypto) — the caller passes it explicitly, it is never guessed from the data. Ratios with a zero denominator
 * are reported as null rather than Infinity so they survive JSON.
 *
 * Ruin has one definition for the whole report (metrics and every Monte Carlo method): equity at or below
 * (1 − ruinLoss) × starting equity at any point of the horizon (`ruinDefinition`).
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
  /** whether this run reached ruin (the one definition: equity ≤ (1 − ruinLoss) × starting equity) */
  readonly ruin: RuinCheck;
  /** share of time with any position open */
  readonly exposure: number;
  readonly avgGrossExposure: number;
  /** traded notional / average equity, annualised */
  readonly turnover: number;
  readonly totalCosts: number;
  readonly periods: number;
  readonly periodsPerYear: number;
  readonly returnBasis: 'daily' | 'bar';
  /** trading days per year used to annualise (Sharpe, Sortino, volatility) */
  readonly annualizationDays: number;
}

export interface AnnualizationOptions {
  /**
   * Trading days per year of the instrument's market: 252 for US equities (default), 365 for crypto. Sharpe,
   * Sortino and volatility are annualised with it (daily returns × √annualizationDays).
   */
  readonly annualizationDays?: number;
  /**
   * Hours the market trades on one of those days, for per-bar annualisation of runs too short for daily
   * returns: 6.5 (US regular session, default), 24 for crypto.
   */
  readonly tradingHoursPerDay?: number;
}

export interface MetricsOptions extends AnnualizationOptions {
  /** ruin = equity at or below (1 − ruinLoss) × starting equity; default 0.5 */
  readonly ruinLoss?: number;
  /** daily returns when the run spans more than this many New York days (default 20), else per bar */
  readonly minDaysForDaily?: number;
}

export const DEFAULT_ANNUALIZATION_DAYS = 252;
export const DEFAULT_RUIN_LOSS = 0.5;

export interface RuinDefinition {
  /** fraction of the starting equity lost */
  readonly lossFraction: number;
  /** the equity at or below which an account counts as ruined */
  readonly level: number;
}

export interface RuinCheck extends RuinDefinition {
  readonly reached: boolean;
  /** first time equity was at or below the level; null when never */
  readonly firstTs: number | null;
  readonly lowestEquity: number;
}

/** The one ruin definition: equity at or below (1 − lossFraction) × starting equity. */
export function ruinDefinition(startEquity: number, lossFraction = DEFAULT_RUIN_LOSS): RuinDefinition {
  if (!(lossFraction > 0 && lossFraction <= 1))
    throw new RangeError(`ruinLoss: ${lossFraction} must be a fraction in (0, 1] of the starting equity`);
  return { lossFraction, level: startEquity * (1 - lossFraction) };
}

/** Whether (and when first) an equity curve reached ruin. */
export function checkRuin(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
  startEquity: number,
  lossFraction = DEFAULT_RUIN_LOSS,
): RuinCheck {
  const def = ruinDefinition(startEquity, lossFraction);
  let lowest = startEquity;
  let firstTs: number | null = null;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (e < lowest) lowest = e;
    if (firstTs === null && e <= def.level) firstTs = ts[i]!;
  }
  return { ...def, reached: firstTs !== null, firstTs, lowestEquity: lowest };
}

function annualization(o: AnnualizationOptions): { days: number; hours: number } {
  const days = o.annualizationDays ?? DEFAULT_ANNUALIZATION_DAYS;
  const hours = o.tradingHoursPerDay ?? 6.5;
  if (!(Number.isFinite(days) && days > 0 && days <= 366))
    throw new RangeError(
      `annualizationDays: ${days} must be trading days per year in (0, 366] (252 US equities, 365 crypto)`,
    );
  if (!(Number.isFinite(hours) && hours > 0 && hours <= 24))
    throw new RangeError(`tradingHoursPerDay: ${hours} must be in (0, 24]`);
  return { days, hours };
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

/** Equity at the last point of each New York day (a point at exactly midnight closes the previous day). */
export function dailyCloses(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
): { ts: number[]; equity: number[]; day: number[] } {
  const out = { ts: [] as number[], equity: [] as number[], day: [] as number[] };
  // New York day boundaries computed arithmetically; nyOffsetMs is only called when a boundary is crossed
  let nextBoundary = -Infinity;
  for (let i = 0; i < equity.length; i++) {
    const t = ts[i]! - 1;
    if (t >= nextBoundary) {
      const off = nyOffsetMs(t);
      const day = Math.floor((t + off) / DAY_MS);
      nextBoundary = (day + 1) * DAY_MS - off;
      out.ts.push(ts[i]!);
      out.equity.push(equity[i]!);
      out.day.push(day);
    } else {
      out.ts[out.ts.length - 1] = ts[i]!;
      out.equity[out.equity.length - 1] = equity[i]!;
    }
  }
  return out;
}

/**
 * Period returns from an equity curve: daily closes (NY date) or per point, with the time each period ends
 * and the periods per year (`annualizationDays` days, or bars of `tradingHoursPerDay` hours on those days).
 */
export function periodReturns(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
  opts: MetricsOptions = {},
): { returns: Float64Array; ts: Float64Array; basis: 'daily' | 'bar'; periodsPerYear: number } {
  const a = annualization(opts);
  const minDaysForDaily = opts.minDaysForDaily ?? 20;
  const n = equity.length;
  if (n < 2)
    return { returns: new Float64Array(0), ts: new Float64Array(0), basis: 'bar', periodsPerYear: a.days };
  const daily = dailyCloses(ts, equity);
  if (daily.equity.length > minDaysForDaily) {
    const e = daily.equity;
    const r = new Float64Array(e.length - 1);
    for (let i = 1; i < e.length; i++) r[i - 1] = e[i - 1]! > 0 ? e[i]! / e[i - 1]! - 1 : 0;
    return { returns: r, ts: Float64Array.from(daily.ts.slice(1)), basis: 'daily', periodsPerYear: a.days };
  }
  const r = new Float64Array(n - 1);
  const rts = new Float64Array(n - 1);
  const gaps: number[] = [];
  for (let i = 1; i < n; i++) {
    r[i - 1] = equity[i - 1]! > 0 ? equity[i]! / equity[i - 1]! - 1 : 0;
    rts[i - 1] = ts[i]!;
    if (gaps.length < 1000) gaps.push(ts[i]! - ts[i - 1]!);
  }
  gaps.sort((x, y) => x - y);
  const barMs = Math.max(60_000, gaps[gaps.length >> 1] ?? 60_000);
  const barsPerDay = Math.max(1, (a.hours * 3_600_000) / barMs);
  return { returns: r, ts: rts, basis: 'bar', periodsPerYear: a.days * barsPerDay };
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

/** Statistics of an equity curve alone (the strategy's or a benchmark's). */
export interface CurveMetrics {
  readonly startEquity: number;
  readonly endEquity: number;
  readonly totalReturn: number;
  /** compound annual growth over calendar time (a year is 365.25 days whatever the market) */
  readonly cagr: number | null;
  readonly annualVolatility: number;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly maxDrawdown: number;
}

function curveStats(ts: ArrayLike<number>, equity: ArrayLike<number>, start: number, opts: MetricsOptions) {
  const endEq = equity.length ? equity[equity.length - 1]! : start;
  const pr = periodReturns(ts, equity, opts);
  const m = mean(pr.returns);
  const sd = std(pr.returns, m);
  let down = 0;
  for (const x of pr.returns) if (x < 0) down += x * x;
  const downDev = pr.returns.length ? Math.sqrt(down / pr.returns.length) : 0;
  const ann = Math.sqrt(pr.periodsPerYear);
  const span = ts.length ? ts[ts.length - 1]! - ts[0]! : 0;
  const years = span / YEAR_MS;
  const cagr = years > 0 && endEq > 0 ? (endEq / start) ** (1 / years) - 1 : null;
  const dd = maxDrawdown(ts, equity);
  const curve: CurveMetrics = {
    startEquity: start,
    endEquity: endEq,
    totalReturn: endEq / start - 1,
    cagr,
    annualVolatility: sd * ann,
    sharpe: ratio(m * ann, sd),
    sortino: ratio(m * ann, downDev),
    maxDrawdown: dd.maxDrawdown,
  };
  return { curve, pr, dd, years };
}

/** Return, CAGR, volatility, Sharpe, Sortino and max drawdown of an equity curve that starts at `start`. */
export function curveMetrics(
  ts: ArrayLike<number>,
  equity: ArrayLike<number>,
  start: number,
  opts: MetricsOptions = {},
): CurveMetrics {
  return curveStats(ts, equity, start, opts).curve;
}

export function computeMetrics(r: BacktestResult, opts: MetricsOptions = {}): BacktestMetrics {
  const { equityTs: ts, equity } = r;
  const start = r.startingCash;
  const { curve, pr, dd, years } = curveStats(ts, equity, start, opts);
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
    ...curve,
    netProfit: curve.endEquity - start,
    calmar: curve.cagr === null ? null : ratio(curve.cagr, dd.maxDrawdown),
    maxDrawdownDurationMs: dd.durationMs,
    trades: r.trades.length,
    winRate: r.trades.length ? wins.length / r.trades.length : null,
    profitFactor: ratio(grossWin, grossLoss),
    expectancy: r.trades.length ? (grossWin - grossLoss) / r.trades.length : null,
    avgWin: wins.length ? grossWin / wins.length : null,
    avgLoss: losses.length ? -grossLoss / losses.length : null,
    var95: v.var,
    es95: v.es,
    ruin: checkRuin(ts, equity, start, opts.ruinLoss),
    exposure: r.exposure.length ? invested / r.exposure.length : 0,
    avgGrossExposure: mean(r.exposure),
    turnover: years > 0 ? r.tradedNotional / avgEq / years : r.tradedNotional / avgEq,
    totalCosts: costs,
    periods: pr.returns.length,
    periodsPerYear: pr.periodsPerYear,
    returnBasis: pr.basis,
    annualizationDays: annualization(opts).days,
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
