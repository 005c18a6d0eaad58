/**
 * A self-contained HTML report: one file a person can open offline. The charting library (TradingView's
 * lightweight-charts, Apache-2.0) is read from node_modules and inlined — no CDN.
 *
 * Header: date range, data source, cost model, starting cash, annualisation, the one ruin definition, the
 * benchmark and the Monte Carlo methods. Charts: equity with the benchmark, drawdown, price with trade
 * markers, and a Monte Carlo fan per method; tables: statistics beside the benchmark's, monthly returns, the
 * open positions at the end, attribution, Monte Carlo distributions, risk denials, sensitivity and
 * walk-forward when given, and the trades. Long runs are resampled (daily, weekly or monthly buckets) and the
 * time scale may draw bars below a pixel apart, so the whole date range is always on screen.
 *
 * `reportJson` gives the same sections as plain JSON for `--json`.
 */
import { instrumentFor } from '../model/instrument';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_FILL_MODEL, type FillModelConfig } from '../execution/fill-models';
import { nyOffsetMs } from '../market/calendar';
import type { BarColumns } from '../model/bar';
import { TIMEFRAME_MS } from '../model/timeframe';
import type { BenchmarkCurve, MonteCarloResults, MonthlyReturnsRow, OpenPosition } from './analysis';
import type { BacktestResult } from './engine';
import {
  curveMetrics,
  maxDrawdown,
  type Attribution,
  type AttributionRow,
  type BacktestMetrics,
  type CurveMetrics,
} from './metrics';
import type { Histogram, McSummary } from './monte-carlo';
import type { Scoreboard } from './scoreboard';
import type { SensitivityRow, WalkForwardFold } from './sensitivity';

export interface ReportHeader {
  /** where the bars came from, in words (e.g. "CSV ../shared/data/kaggle_huge_us_stocks_etfs (1d)") */
  readonly dataSource?: string;
  /** the fill and cost model the run used; default: the engine's default model */
  readonly costModel?: FillModelConfig;
  /** whether quotes were given (the spread is then observed, not modelled, while they are fresh) */
  readonly quotes?: boolean;
  /** the requested range, epoch ms ([from, to)) */
  readonly from?: number;
  readonly to?: number;
}

export interface ReportInput {
  readonly title: string;
  readonly result: BacktestResult;
  readonly metrics: BacktestMetrics;
  readonly attribution: Attribution;
  readonly monteCarlo?: MonteCarloResults;
  readonly monthlyReturns?: readonly MonthlyReturnsRow[];
  readonly openPositions?: readonly OpenPosition[];
  /** a buy-and-hold curve sampled at the run's equity timestamps; its metrics are computed when missing */
  readonly benchmark?: BenchmarkCurve & { readonly metrics?: CurveMetrics };
  readonly header?: ReportHeader;
  /** bars of the symbol drawn with its trades */
  readonly price?: BarColumns;
  readonly sensitivity?: readonly SensitivityRow[];
  readonly walkForward?: readonly WalkForwardFold[];
  /** a model backtest's scoreboard (prediction quality per window, baselines, deflated Sharpe) */
  readonly scoreboard?: Scoreboard;
  /** epoch ms written in the header (the caller's clock; the report itself reads none) */
  readonly generatedAt?: number;
}

let chartLib: string | undefined;
export function chartLibrarySource(): string {
  if (!chartLib) {
    const dir = dirname(require.resolve('lightweight-charts/package.json'));
    chartLib = readFileSync(join(dir, 'dist', 'lightweight-charts.standalone.production.js'), 'utf8');
  }
  return chartLib;
}

const DAY_MS = 86_400_000;
/** at most this many points per chart series; longer runs are bucketed by day, week or month */
const MAX_CHART_POINTS = 2000;

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmtPct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)}%`;
const fmtNum = (x: number | null, d = 2) =>
  x === null || !Number.isFinite(x)
    ? '—'
    : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const fmtUsd = (x: number | null) => (x === null ? '—' : `${x < 0 ? '−' : ''}$${fmtNum(Math.abs(x))}`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
/** the New York trading date of a close instant (a close at exactly midnight belongs to the day before) */
const nyDayOfClose = (t: number) => Math.floor((t - 1 + nyOffsetMs(t - 1)) / DAY_MS);
/** the New York trading date (YYYY-MM-DD) of a close instant */
const closeDay = (t: number) => isoDay(nyDayOfClose(t) * DAY_MS);

// ---------------------------------------------------------------- chart resampling

export type ChartBucket = 'raw' | 'day' | 'week' | 'month';

/** New York trading day of close instants, computing the zone offset only when a day boundary is crossed. */
function nyDayCounter(): (t: number) => number {
  let lo = Infinity;
  let hi = -Infinity;
  let day = 0;
  return (t) => {
    const x = t - 1;
    if (x < lo || x >= hi) {
      const off = nyOffsetMs(x);
      day = Math.floor((x + off) / DAY_MS);
      lo = day * DAY_MS - off;
      hi = (day + 1) * DAY_MS - off;
    }
    return day;
  };
}

/**
 * The bucket for a series of close instants: the finest of day / week / month with at most `maxPoints`
 * buckets ('raw' for intraday series short enough to draw every point). A bucket is drawn at its first
 * calendar day (UTC midnight), so a run that starts in early January puts a year on its first tick.
 */
export function chooseBucket(ts: ArrayLike<number>, maxPoints = MAX_CHART_POINTS): ChartBucket {
  const n = ts.length;
  if (n === 0) return 'day';
  const dayOf = nyDayCounter();
  let days = 0;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const d = dayOf(ts[i]!);
    if (d !== last) days++;
    last = d;
  }
  if (days < n && n <= maxPoints) return 'raw';
  if (days <= maxPoints) return 'day';
  if (days / 5 <= maxPoints * 0.95) return 'week';
  return 'month';
}

function dayBucketSec(day: number, bucket: Exclude<ChartBucket, 'raw'>): number {
  if (bucket === 'day') return day * 86_400;
  if (bucket === 'week') return (day - ((day + 3) % 7)) * 86_400; // Monday (1970-01-01 was a Thursday)
  const d = new Date(day * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
}

/** Chart time (seconds) of the bucket holding close instant `t`. */
function bucketStartSec(t: number, bucket: ChartBucket): number {
  return bucket === 'raw' ? Math.floor(t / 1000) : dayBucketSec(nyDayOfClose(t), bucket);
}

/** One value per bucket: the last (equity), or the lowest (drawdown, drawn negative). */
export function bucketSeries(
  ts: ArrayLike<number>,
  v: ArrayLike<number>,
  bucket: ChartBucket,
  keep: 'last' | 'min' = 'last',
): Array<{ time: number; value: number }> {
  const out: Array<{ time: number; value: number }> = [];
  const dayOf = nyDayCounter();
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const time = bucket === 'raw' ? Math.floor(t / 1000) : dayBucketSec(dayOf(t), bucket);
    const value = Math.round(v[i]! * 100) / 100;
    const last = out[out.length - 1];
    if (last && time === last.time) last.value = keep === 'last' ? value : Math.min(last.value, value);
    else if (!last || time > last.time) out.push({ time, value }); // the chart needs increasing times
  }
  return out;
}

/** OHLC candles per bucket (first open, highest high, lowest low, last close). */
function bucketCandles(
  p: BarColumns,
  bucket: ChartBucket,
): Array<{ time: number; open: number; high: number; low: number; close: number }> {
  const tf = TIMEFRAME_MS[p.timeframe];
  const out: Array<{ time: number; open: number; high: number; low: number; close: number }> = [];
  for (let i = 0; i < p.ts.length; i++) {
    const time = bucket === 'raw' ? Math.floor(p.ts[i]! / 1000) : bucketStartSec(p.ts[i]! + tf, bucket);
    const last = out[out.length - 1];
    if (last && time === last.time) {
      last.high = Math.max(last.high, p.high[i]!);
      last.low = Math.min(last.low, p.low[i]!);
      last.close = p.close[i]!;
    } else if (!last || time > last.time)
      out.push({ time, open: p.open[i]!, high: p.high[i]!, low: p.low[i]!, close: p.close[i]! });
  }
  return out;
}

// ---------------------------------------------------------------- header and tables

/**
 * The cost model in words, one line per cost, with the configured numbers; the fee lines follow the traded
 * instruments' schedules (US equities: per-share commission and SEC/FINRA; crypto: maker/taker bps).
 */
export function describeCostModel(
  c: FillModelConfig,
  quotes = false,
  symbols: readonly string[] = [],
): Array<[string, string]> {
  const crypto = [...new Set(symbols.map((s) => instrumentFor(s)).filter((i) => i.fees.kind === 'crypto'))];
  const equities = symbols.length === 0 || symbols.some((s) => instrumentFor(s).fees.kind === 'us_equity');
  const cryptoFees = crypto[0]?.fees;
  const lines = describeEquityCosts(c, quotes);
  const out = lines.filter(([k]) => equities || (k !== 'commission' && k !== 'fees' && k !== 'short borrow'));
  if (cryptoFees && cryptoFees.kind === 'crypto')
    out.push([
      'crypto fees',
      `${cryptoFees.takerBps} bp of notional taking liquidity (market, stop, marketable limit), ${cryptoFees.makerBps} bp resting (maker); no SEC/FINRA fees; not shortable`,
    ]);
  return out;
}

function describeEquityCosts(c: FillModelConfig, quotes: boolean): Array<[string, string]> {
  const modelled = `max(${c.minHalfSpreadBps} bp, ${c.spreadVolMultiplier} × σ per trading minute (the bar's σ over √minutes in it)) per side`;
  return [
    [
      'spread',
      quotes
        ? `half the quoted spread while a quote is under ${c.maxQuoteAgeMs / 1000} s old, else ${modelled}`
        : `modelled (no quotes): ${modelled}`,
    ],
    [
      'slippage / impact',
      `${c.impactCoefficient} × σ of the bar × √(qty ÷ bar volume); at most ${fmtPct(c.maxParticipation)} of a bar's volume per fill (rest fills later); latency ${c.latencyMs} ms; market orders fill at the next bar's open`,
    ],
    [
      'commission',
      `$${c.commission.perShare}/share, min $${fmtNum(c.commission.minPerOrder)} per order, max ${fmtPct(c.commission.maxFractionOfNotional)} of notional`,
    ],
    [
      'fees',
      `SEC $${fmtNum(c.secFeeRate * 1e6)} per $1M of sales; FINRA TAF $${c.finraTafPerShare}/share sold (max $${fmtNum(c.finraTafMaxPerTrade)})`,
    ],
    ['short borrow', `${fmtPct(c.borrowAnnualRate)}/yr of short market value`],
  ];
}

export interface ReportHeaderInfo {
  readonly strategy: string;
  readonly symbols: readonly string[];
  readonly timeframes: readonly string[];
  readonly seed: number;
  readonly orderHash: string;
  readonly firstTs: number | null;
  readonly lastTs: number | null;
  readonly requestedFrom?: number;
  readonly requestedTo?: number;
  readonly dataSource: string;
  readonly startingCash: number;
  readonly costModel: FillModelConfig;
  readonly costModelText: Array<[string, string]>;
  readonly annualizationDays: number;
  readonly returnBasis: 'daily' | 'bar';
  readonly periodsPerYear: number;
  readonly ruin: { readonly lossFraction: number; readonly level: number; readonly text: string };
  readonly benchmark: string | null;
  readonly monteCarlo: string[];
  readonly generatedAt?: number;
}

export function reportHeaderInfo(input: ReportInput): ReportHeaderInfo {
  const { result: r, metrics: m } = input;
  const h = input.header ?? {};
  const cost = h.costModel ?? DEFAULT_FILL_MODEL;
  const mc = input.monteCarlo ?? {};
  return {
    strategy: r.strategy,
    symbols: r.symbols,
    timeframes: r.timeframes,
    seed: r.seed,
    orderHash: r.orderHash,
    firstTs: r.equityTs.length ? r.equityTs[0]! : null,
    lastTs: r.equityTs.length ? r.equityTs[r.equityTs.length - 1]! : null,
    requestedFrom: h.from,
    requestedTo: h.to,
    dataSource: h.dataSource ?? 'bars supplied by the caller',
    startingCash: r.startingCash,
    costModel: cost,
    costModelText: describeCostModel(cost, h.quotes ?? false, r.symbols),
    annualizationDays: m.annualizationDays,
    returnBasis: m.returnBasis,
    periodsPerYear: m.periodsPerYear,
    ruin: {
      lossFraction: m.ruin.lossFraction,
      level: m.ruin.level,
      text: `equity at or below ${fmtUsd(m.ruin.level)} (a loss of ${fmtPct(m.ruin.lossFraction)} of the starting equity) at any point of the horizon`,
    },
    benchmark: input.benchmark?.label ?? null,
    monteCarlo: [mc.blockBootstrap, mc.tradeResample]
      .filter((x): x is McSummary => x !== undefined)
      .map((x) => `${x.method}: ${x.description}; ${x.runs.toLocaleString('en-US')} paths`),
    generatedAt: input.generatedAt,
  };
}

function attributionTable(title: string, rows: readonly AttributionRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.key)}</td><td class="n ${r.pnl < 0 ? 'neg' : 'pos'}">${fmtUsd(r.pnl)}</td><td class="n">${r.trades}</td><td class="n">${fmtPct(r.winRate)}</td></tr>`,
    )
    .join('');
  return `<table><caption>${esc(title)}</caption><thead><tr><th>${esc(title.replace('P&L by ', ''))}</th><th>net P&amp;L</th><th>trades</th><th>win rate</th></tr></thead><tbody>${body || '<tr><td colspan="4">no closed trades</td></tr>'}</tbody></table>`;
}

const MC_NAMES: Readonly<Record<McSummary['method'], string>> = {
  'block-bootstrap': 'block bootstrap of returns',
  'trade-resample': 'resampled trades (re-sized)',
};

function mcRows(m: McSummary): string {
  const q = (x: McSummary['finalEquity'], f: (v: number) => string) =>
    `<td class="n">${f(x.p5)}</td><td class="n">${f(x.p25)}</td><td class="n">${f(x.p50)}</td><td class="n">${f(x.p75)}</td><td class="n">${f(x.p95)}</td>`;
  return (
    `<tr><td rowspan="2">${esc(MC_NAMES[m.method])}<div class="small">${esc(m.description)}</div></td><td>final equity</td>${q(m.finalEquity, fmtUsd)}<td class="n" rowspan="2">${fmtPct(m.probabilityOfRuin)}</td><td class="n" rowspan="2">${m.runs.toLocaleString('en-US')}</td></tr>` +
    `<tr><td>max drawdown</td>${q(m.maxDrawdown, fmtPct)}</tr>`
  );
}

/** A small inline SVG histogram with the backtest's own value marked. */
function svgHistogram(title: string, h: Histogram, actual: number, fmt: (x: number) => string): string {
  const W = 320;
  const H = 110;
  const max = Math.max(1, ...h.counts);
  const bw = W / h.counts.length;
  const bars = h.counts
    .map((c, i) => {
      const bh = (c / max) * (H - 24);
      return `<rect x="${(i * bw + 0.5).toFixed(1)}" y="${(H - 14 - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#90caf9"/>`;
    })
    .join('');
  const span = h.max - h.min;
  const ax = span > 0 ? Math.min(W, Math.max(0, ((actual - h.min) / span) * W)) : W / 2;
  return `<figure class="hist"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${bars}<line x1="${ax.toFixed(1)}" x2="${ax.toFixed(1)}" y1="0" y2="${H - 14}" stroke="#c62828" stroke-width="2"/><text x="0" y="${H - 2}" font-size="10">${esc(fmt(h.min))}</text><text x="${W}" y="${H - 2}" font-size="10" text-anchor="end">${esc(fmt(h.max))}</text></svg><div class="small">red line: this backtest (${esc(fmt(actual))})</div></figure>`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pctCell = (x: number | null) =>
  x === null
    ? '<td class="n"></td>'
    : `<td class="n ${x <= -5e-5 ? 'neg' : x >= 5e-5 ? 'pos' : ''}">${fmtPct(Math.abs(x) < 5e-5 ? 0 : x)}</td>`;

function monthlyTable(rows: readonly MonthlyReturnsRow[]): string {
  if (rows.length === 0) return '<p>no equity points</p>';
  return `<table class="monthly"><thead><tr><th>year</th>${MONTHS.map((m) => `<th>${m}</th>`).join('')}<th>year</th></tr></thead><tbody>${rows
    .map((r) => `<tr><td>${r.year}</td>${r.months.map(pctCell).join('')}${pctCell(r.total)}</tr>`)
    .join('')}</tbody></table>`;
}

function positionsTable(rows: readonly OpenPosition[] | undefined, end: number | null): string {
  if (rows === undefined) return '<p>not given to the report</p>';
  if (rows.length === 0) return `<p>flat: no position open at the end${end ? ` (${iso(end)} UTC)` : ''}</p>`;
  let mv = 0;
  let upl = 0;
  const body = rows
    .map((p) => {
      mv += p.marketValue;
      upl += p.unrealizedPnl;
      return `<tr><td>${esc(p.symbol)}</td><td class="n">${p.qty.toLocaleString('en-US')}</td><td class="n">${fmtNum(p.avgPrice, 4)}</td><td class="n">${fmtNum(p.lastPrice, 4)}</td><td class="n">${fmtUsd(p.marketValue)}</td><td class="n ${p.unrealizedPnl < 0 ? 'neg' : 'pos'}">${fmtUsd(p.unrealizedPnl)}</td></tr>`;
    })
    .join('');
  return `<table id="open-positions"><thead><tr><th>symbol</th><th>qty</th><th>avg price</th><th>last price</th><th>market value</th><th>unrealized P&amp;L</th></tr></thead><tbody>${body}<tr class="total"><td>total</td><td></td><td></td><td></td><td class="n">${fmtUsd(mv)}</td><td class="n ${upl < 0 ? 'neg' : 'pos'}">${fmtUsd(upl)}</td></tr></tbody></table>${end ? `<p class="small">marked at the last price known at ${iso(end)} UTC</p>` : ''}`;
}

function benchmarkMetrics(input: ReportInput): CurveMetrics | undefined {
  const b = input.benchmark;
  if (!b) return undefined;
  return (
    b.metrics ??
    curveMetrics(b.ts, b.equity, input.result.startingCash, {
      annualizationDays: input.metrics.annualizationDays,
    })
  );
}

// ---------------------------------------------------------------- JSON

/** The report's sections as plain JSON (what `--json` writes), without the HTML. */
export function reportJson(input: ReportInput) {
  const { result: r } = input;
  const bucket = chooseBucket(r.equityTs);
  const bm = benchmarkMetrics(input);
  const mc = input.monteCarlo ?? {};
  const summary = (m: McSummary | undefined) => {
    if (!m) return undefined;
    const { fan: _fan, ...rest } = m;
    return rest;
  };
  return {
    header: reportHeaderInfo(input),
    metrics: input.metrics,
    benchmark:
      input.benchmark && bm
        ? {
            label: input.benchmark.label,
            metrics: bm,
            /** bucketed as drawn: time is the bucket's first day, epoch ms */
            curve: bucketSeries(input.benchmark.ts, input.benchmark.equity, bucket).map((p) => ({
              ts: p.time * 1000,
              equity: p.value,
            })),
          }
        : null,
    monteCarlo: {
      blockBootstrap: summary(mc.blockBootstrap) ?? null,
      tradeResample: summary(mc.tradeResample) ?? null,
    },
    monthlyReturns: input.monthlyReturns ?? null,
    openPositions: input.openPositions ?? null,
    attribution: input.attribution,
    orderHash: r.orderHash,
    scoreboard: input.scoreboard ?? null,
    trades: r.trades,
    deniedByRule: r.deniedByRule,
  };
}

/** The model backtest's scoreboard as HTML: the verdict, the baselines, the windows, the deflated Sharpe. */
function scoreboardHtml(sb: Scoreboard | undefined): string {
  if (!sb) return '';
  const num = (x: number | null, d = 4) => (x === null ? '—' : x.toFixed(d));
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  const usd = (x: number) =>
    `<span class="${x < 0 ? 'neg' : 'pos'}">${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}</span>`;
  const o = sb.overall;
  const d = sb.deflatedSharpe;
  return `<h2>Model scoreboard (out of sample)</h2>
<p class="small">${esc(sb.strategy)} trading <b>${esc(sb.model)}</b> · features ${esc(sb.featureSet)} · horizon ${sb.horizonBars} bars · everything below is measured from ${esc(new Date(sb.tradeFrom).toISOString().slice(0, 10))}, the first out-of-sample instant, on the same bars with the same fills and costs</p>
<ul id="scoreboard-verdict">${sb.verdict.map((v) => `<li>${esc(v)}</li>`).join('')}</ul>
<table id="scoreboard-baselines"><thead><tr><th>strategy</th><th>net P&amp;L</th><th>return</th><th>Sharpe</th><th>max DD</th><th>trades</th><th>fees</th><th></th></tr></thead><tbody>${sb.baselines
    .map(
      (b, i) =>
        `<tr${i === 0 ? ' class="total"' : ''}><td>${esc(b.name)}</td><td class="n">${usd(b.netProfit)}</td><td class="n">${pct(b.totalReturn)}</td><td class="n">${num(b.sharpe, 2)}</td><td class="n">${pct(b.maxDrawdown)}</td><td class="n">${b.trades}</td><td class="n">${usd(-b.costs)}</td><td class="small">${esc(b.description)}</td></tr>`,
    )
    .join('')}</tbody></table>
<table id="scoreboard-quality"><caption>Prediction quality</caption><tbody>
<tr><td>predictions with a realized return</td><td class="n">${o.predictions.toLocaleString('en-US')}</td></tr>
<tr><td>rank IC, all rows pooled</td><td class="n">${num(o.rankIc)}</td></tr>
<tr><td>mean rank IC per window (t-statistic)</td><td class="n">${num(o.meanWindowIc)} (${num(o.icTStat, 2)})</td></tr>
<tr><td>mean cross-sectional rank IC per decision time</td><td class="n">${o.crossSectionalIc === null ? '— (fewer than 5 symbols)' : num(o.crossSectionalIc)}</td></tr>
<tr><td>hit rate (sign of score = sign of return)</td><td class="n">${pct(o.hitRate)}</td></tr>
${d ? `<tr><td>deflated Sharpe ratio (${d.trials} trial${d.trials === 1 ? '' : 's'}; P(true Sharpe &gt; 0))</td><td class="n">${d.probability.toFixed(3)}</td></tr><tr><td>Sharpe per day (annualised) · bar to clear for ${d.trials} trials</td><td class="n">${d.sharpe.toFixed(4)} (${num(d.annualised, 2)}) · ${d.expectedMaxSharpe.toFixed(4)}</td></tr><tr><td>daily returns: observations · skew · kurtosis</td><td class="n">${d.observations} · ${d.skew.toFixed(2)} · ${d.kurtosis.toFixed(2)}</td></tr>` : '<tr><td>deflated Sharpe ratio</td><td class="n">— (too few daily returns)</td></tr>'}
</tbody></table>
<table id="scoreboard-windows"><caption>Walk-forward windows</caption><thead><tr><th>#</th><th>model</th><th>trained on</th><th>tested on</th><th>predictions</th><th>rank IC</th><th>hit rate</th><th>trades</th><th>net P&amp;L</th></tr></thead><tbody>${sb.windows
    .map(
      (w, i) =>
        `<tr><td>${i + 1}</td><td><code>${esc(w.modelId)}</code></td><td>${isoDay(w.trainFrom)} → ${isoDay(w.trainTo)}</td><td>${isoDay(w.testFrom)} → ${isoDay(w.testTo)}</td><td class="n">${w.predictions}</td><td class="n">${num(w.rankIc)}</td><td class="n">${pct(w.hitRate)}</td><td class="n">${w.trades}</td><td class="n">${usd(w.netPnl)}</td></tr>`,
    )
    .join('')}</tbody></table>
${attributionTable('P&L by model (out of sample)', sb.pnlByModel)}`;
}

// ---------------------------------------------------------------- HTML

export function renderReport(input: ReportInput): string {
  const { result: r, metrics: m } = input;
  const head = reportHeaderInfo(input);
  const bucket = chooseBucket(r.equityTs);
  const equity = bucketSeries(r.equityTs, r.equity, bucket);
  const dd = maxDrawdown(r.equityTs, r.equity).drawdown;
  const drawdown = bucketSeries(
    r.equityTs,
    Float64Array.from(dd, (x) => -x * 100),
    bucket,
    'min',
  );
  const benchmark = input.benchmark ? bucketSeries(input.benchmark.ts, input.benchmark.equity, bucket) : [];
  const bm = benchmarkMetrics(input);

  let price: Array<{ time: number; open: number; high: number; low: number; close: number }> = [];
  let markers: Array<{ time: number; position: string; color: string; shape: string; text: string }> = [];
  let priceBucket: ChartBucket = 'day';
  if (input.price && input.price.ts.length) {
    const p = input.price;
    const tf = TIMEFRAME_MS[p.timeframe];
    priceBucket = chooseBucket(Float64Array.from(p.ts, (t) => t + tf));
    price = bucketCandles(p, priceBucket);
    const snap = (ms: number) => {
      // markers must sit on a drawn candle: the last candle starting at or before the fill
      const t = priceBucket === 'raw' ? Math.floor(ms / 1000) : bucketStartSec(ms + 1, priceBucket);
      let lo = 0;
      let hi = price.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (price[mid]!.time <= t) lo = mid;
        else hi = mid - 1;
      }
      return price[lo]?.time ?? t;
    };
    const mk: typeof markers = [];
    for (const t of r.trades) {
      if (t.symbol !== p.symbol) continue;
      const long = t.side === 'long';
      mk.push({
        time: snap(t.entryTs),
        position: long ? 'belowBar' : 'aboveBar',
        color: long ? '#2e7d32' : '#c62828',
        shape: long ? 'arrowUp' : 'arrowDown',
        text: long ? 'L' : 'S',
      });
      mk.push({
        time: snap(t.exitTs),
        position: long ? 'aboveBar' : 'belowBar',
        color: t.pnl >= 0 ? '#1565c0' : '#6d4c41',
        shape: 'circle',
        text: t.pnl >= 0 ? '+' : '−',
      });
    }
    mk.sort((a, b) => a.time - b.time);
    markers = mk.slice(0, 2000);
  }

  const mc = input.monteCarlo ?? {};
  // every path starts at the starting cash (step 0, drawn at `time(0)`)
  const fanLines = (s: McSummary, time: (step: number) => number) =>
    (['p5', 'p25', 'p50', 'p75', 'p95'] as const).map((k) => {
      const data: Array<{ time: number; value: number }> = [{ time: time(0), value: r.startingCash }];
      s.fan.step.forEach((st, i) => {
        const t = time(st);
        if (data.length && t <= data[data.length - 1]!.time) return;
        data.push({ time: t, value: Math.round(s.fan[k][i]! * 100) / 100 });
      });
      return { name: k, data };
    });
  // the bootstrap's steps are the run's periods, so its fan is drawn on the run's calendar
  const ends = mc.bootstrapPeriodEnds;
  const fanBoot =
    mc.blockBootstrap && ends
      ? fanLines(mc.blockBootstrap, (st) =>
          bucketStartSec(
            st === 0 ? r.equityTs[0]! : ends[Math.min(ends.length - 1, st - 1)]!,
            bucket === 'raw' ? 'raw' : 'day',
          ),
        )
      : [];
  // the trade resample has no calendar: steps are drawn one "day" apart from 2000-01-01 (axis shows trade #)
  const fanBase = Date.UTC(2000, 0, 1) / 1000;
  const fanTrades = mc.tradeResample ? fanLines(mc.tradeResample, (st) => fanBase + st * 86_400) : [];
  const ruinLevel = m.ruin.level;

  const data = {
    equity,
    drawdown,
    benchmark,
    price,
    markers,
    fanBoot,
    fanTrades,
    fanBase,
    ruinLevel,
    timeVisible: bucket === 'raw',
    priceTimeVisible: priceBucket === 'raw',
    symbol: input.price?.symbol ?? '',
  };
  const json = JSON.stringify(data).replace(/</g, '\\u003c');

  const cmp = (label: string, a: string, b: string) => [label, a, b] as const;
  const statRows: Array<readonly [string, string, string]> = [
    cmp('Start equity', fmtUsd(m.startEquity), bm ? fmtUsd(bm.startEquity) : ''),
    cmp('End equity', fmtUsd(m.endEquity), bm ? fmtUsd(bm.endEquity) : ''),
    cmp('Net profit', fmtUsd(m.netProfit), bm ? fmtUsd(bm.endEquity - bm.startEquity) : ''),
    cmp('Total return', fmtPct(m.totalReturn), bm ? fmtPct(bm.totalReturn) : ''),
    cmp('CAGR (calendar years)', fmtPct(m.cagr), bm ? fmtPct(bm.cagr) : ''),
    cmp('Sharpe', fmtNum(m.sharpe), bm ? fmtNum(bm.sharpe) : ''),
    cmp('Sortino', fmtNum(m.sortino), bm ? fmtNum(bm.sortino) : ''),
    cmp('Calmar', fmtNum(m.calmar), ''),
    cmp('Max drawdown', fmtPct(m.maxDrawdown), bm ? fmtPct(bm.maxDrawdown) : ''),
    cmp('Annual volatility', fmtPct(m.annualVolatility), bm ? fmtPct(bm.annualVolatility) : ''),
    cmp('Trades', String(m.trades), ''),
    cmp('Win rate', fmtPct(m.winRate), ''),
    cmp('Profit factor', fmtNum(m.profitFactor), ''),
    cmp('Expectancy / trade', fmtUsd(m.expectancy), ''),
    cmp(`VaR 95 (1 ${m.returnBasis === 'daily' ? 'day' : 'bar'})`, fmtPct(m.var95), ''),
    cmp('Expected shortfall 95', fmtPct(m.es95), ''),
    cmp(
      `Ruin (equity ≤ ${fmtUsd(m.ruin.level)})`,
      m.ruin.reached
        ? `reached ${iso(m.ruin.firstTs!)}`
        : `not reached (lowest ${fmtUsd(m.ruin.lowestEquity)})`,
      '',
    ),
    cmp('Exposure (time invested)', fmtPct(m.exposure), ''),
    cmp('Turnover (× equity / yr)', fmtNum(m.turnover), ''),
    cmp('Costs (commission, fees, borrow)', fmtUsd(m.totalCosts), ''),
    cmp('Return basis', `${m.returnBasis} (${m.periods} periods, ${fmtNum(m.periodsPerYear, 0)}/yr)`, ''),
  ];
  const denials = Object.entries(r.deniedByRule).sort((a, b) => b[1] - a[1]);
  const trades = r.trades.slice(0, 500);
  const sens = input.sensitivity ?? [];
  const sensKeys = sens.length ? Object.keys(sens[0]!.params) : [];
  const wf = input.walkForward ?? [];
  const years =
    head.firstTs !== null && head.lastTs !== null ? (head.lastTs - head.firstTs) / (365.25 * DAY_MS) : 0;
  const mcList = [mc.blockBootstrap, mc.tradeResample].filter((x): x is McSummary => x !== undefined);
  const headerRows: Array<[string, string]> = [
    [
      'Date range',
      head.firstTs === null
        ? 'no equity points'
        : `${closeDay(head.firstTs)} → ${closeDay(head.lastTs!)} (${years.toFixed(1)} years${head.requestedFrom !== undefined || head.requestedTo !== undefined ? `; requested ${head.requestedFrom !== undefined ? isoDay(head.requestedFrom) : 'start'} → ${head.requestedTo !== undefined ? isoDay(head.requestedTo) : 'end'}` : ''})`,
    ],
    ['Data source', head.dataSource],
    ['Starting cash', fmtUsd(head.startingCash)],
    ...head.costModelText.map(([k, v]): [string, string] => [`Cost: ${k}`, v]),
    [
      'Annualisation',
      `${head.annualizationDays} trading days per year (Sharpe, Sortino, volatility); returns ${head.returnBasis === 'daily' ? 'per New York day' : 'per bar'}`,
    ],
    ['Ruin (one definition)', head.ruin.text],
    ['Benchmark', head.benchmark ?? 'none'],
    ['Monte Carlo', head.monteCarlo.join(' · ') || 'not run (too few trades or periods)'],
  ];

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6ee;padding-bottom:4px}
.sub{color:#5d6475;margin-bottom:10px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px}
.chart{height:320px;border:1px solid #e3e6ee;border-radius:6px}
table{border-collapse:collapse;margin:8px 0 16px;min-width:320px}caption{text-align:left;font-weight:600;padding:4px 0}
td,th{border-bottom:1px solid #eef0f5;padding:4px 10px;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.header td:first-child{color:#5d6475;white-space:nowrap}table.monthly td,table.monthly th{padding:3px 6px;font-size:13px}
tr.total td{font-weight:600}.small{color:#5d6475;font-size:12px}.hist{display:inline-block;margin:0 18px 12px 0}
.pos{color:#2e7d32}.neg{color:#c62828}.warn{background:#fff4e5;border:1px solid #ffcc80;padding:8px 12px;border-radius:6px}
.legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:4px}
</style></head><body>
<h1>${esc(input.title)}</h1>
<div class="sub">${esc(r.strategy)} · symbols ${esc(r.symbols.join(', '))} · timeframes ${esc(r.timeframes.join(', '))} · seed ${r.seed} · ${r.barEvents.toLocaleString('en-US')} bar events · order hash <code>${r.orderHash}</code>${input.generatedAt ? ` · generated ${esc(new Date(input.generatedAt).toISOString())}` : ''}</div>
<table class="header" id="report-header"><tbody>${headerRows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>
${r.stopped ? `<p class="warn">Run stopped: ${esc(r.stopped.message)}</p>` : ''}
<div class="grid">
<div><h2>Equity${bucket === 'raw' ? '' : ` (${bucket === 'day' ? 'daily' : bucket === 'week' ? 'weekly' : 'monthly'} closes)`}</h2><div class="legend small"><span><i class="sw" style="background:#1565c0"></i>strategy</span>${benchmark.length ? `<span><i class="sw" style="background:#8d8d8d"></i>${esc(input.benchmark!.label)}</span>` : ''}</div><div id="equity" class="chart"></div></div>
<div><h2>Drawdown (%)</h2><div id="drawdown" class="chart"></div></div>
<div><h2>Trades on ${esc(data.symbol || 'price')}</h2><div id="price" class="chart"></div></div>
${mc.blockBootstrap ? `<div><h2>Monte Carlo fan: block bootstrap of returns (equity by date)</h2><div class="small">p5 · p25 · p50 · p75 · p95 of ${mc.blockBootstrap.runs.toLocaleString('en-US')} paths; the ruin level is a dashed red line when it is in view</div><div id="fan-bootstrap" class="chart"></div></div>` : ''}
${mc.tradeResample ? `<div><h2>Monte Carlo fan: resampled trades (equity by trade number)</h2><div class="small">p5 · p25 · p50 · p75 · p95 of ${mc.tradeResample.runs.toLocaleString('en-US')} paths; the ruin level is a dashed red line when it is in view</div><div id="fan-trades" class="chart"></div></div>` : ''}
</div>
${scoreboardHtml(input.scoreboard)}
<h2>Statistics</h2>
<table id="statistics"><thead><tr><th></th><th>strategy</th><th>${bm ? 'benchmark' : ''}</th></tr></thead><tbody>${statRows.map(([k, v, b]) => `<tr><td>${esc(k)}</td><td class="n">${esc(v)}</td><td class="n">${esc(b)}</td></tr>`).join('')}</tbody></table>
<h2>Monthly returns</h2>
${monthlyTable(input.monthlyReturns ?? [])}
<h2>Open positions at the end</h2>
${positionsTable(input.openPositions, head.lastTs)}
<h2>Dollar P&amp;L attribution</h2>
<div class="grid">${attributionTable('P&L by ticker', input.attribution.byTicker)}${attributionTable('P&L by timeframe', input.attribution.byTimeframe)}${attributionTable('P&L by tier', input.attribution.byTier)}${attributionTable('P&L by model', input.attribution.byModel)}</div>
${
  mcList.length
    ? `<h2>Monte Carlo</h2><p>P(ruin): share of paths whose equity reached ${fmtUsd(ruinLevel)} (${esc(head.ruin.text)}) — the same definition as the Ruin row above.</p><table id="monte-carlo"><thead><tr><th>method</th><th></th><th>p5</th><th>p25</th><th>p50</th><th>p75</th><th>p95</th><th>P(ruin)</th><th>paths</th></tr></thead><tbody>${mcList.map(mcRows).join('')}</tbody></table>
<div>${mcList.map((s) => svgHistogram(`${MC_NAMES[s.method]}: final equity`, s.histogram.finalEquity, m.endEquity, fmtUsd) + svgHistogram(`${MC_NAMES[s.method]}: max drawdown`, s.histogram.maxDrawdown, m.maxDrawdown, fmtPct)).join('')}</div>`
    : ''
}
<h2>Risk engine</h2>
<table><thead><tr><th>rule</th><th>denials</th></tr></thead><tbody>${denials.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${v}</td></tr>`).join('') || '<tr><td colspan="2">no denials</td></tr>'}</tbody></table>
<p>${r.submitted} orders submitted, ${r.fillCount} fills, ${r.rejectedByBroker} broker rejections, ${r.riskModeChanges.length} risk-mode changes.</p>
${sens.length ? `<h2>Parameter sensitivity</h2><table><thead><tr>${sensKeys.map((k) => `<th>${esc(k)}</th>`).join('')}<th>Sharpe</th><th>net profit</th><th>max DD</th><th>trades</th></tr></thead><tbody>${sens.map((s) => `<tr>${sensKeys.map((k) => `<td class="n">${s.params[k]}</td>`).join('')}<td class="n">${fmtNum(s.metrics.sharpe)}</td><td class="n">${fmtUsd(s.metrics.netProfit)}</td><td class="n">${fmtPct(s.metrics.maxDrawdown)}</td><td class="n">${s.metrics.trades}</td></tr>`).join('')}</tbody></table>` : ''}
${wf.length ? `<h2>Walk-forward (out of sample)</h2><table><thead><tr><th>fold</th><th>in-sample</th><th>out-of-sample</th><th>chosen</th><th>OOS Sharpe</th><th>OOS net profit</th><th>OOS trades</th></tr></thead><tbody>${wf.map((f, i) => `<tr><td>${i + 1}</td><td>${isoDay(f.inSample.from)} → ${isoDay(f.inSample.to)}</td><td>${isoDay(f.outOfSample.from)} → ${isoDay(f.outOfSample.to)}</td><td>${esc(JSON.stringify(f.chosen))}</td><td class="n">${fmtNum(f.outOfSampleMetrics.sharpe)}</td><td class="n">${fmtUsd(f.outOfSampleMetrics.netProfit)}</td><td class="n">${f.outOfSampleMetrics.trades}</td></tr>`).join('')}</tbody></table>` : ''}
<h2>Trades${r.trades.length > trades.length ? ` (first ${trades.length} of ${r.trades.length})` : ''}</h2>
<table><thead><tr><th>symbol</th><th>side</th><th>entry</th><th>exit</th><th>qty</th><th>entry px</th><th>exit px</th><th>net P&amp;L</th><th>tier</th><th>model</th><th>exit reason</th></tr></thead><tbody>
${trades.map((t) => `<tr><td>${esc(t.symbol)}</td><td>${t.side}</td><td>${iso(t.entryTs)}</td><td>${iso(t.exitTs)}</td><td class="n">${t.qty}</td><td class="n">${t.entryPrice.toFixed(2)}</td><td class="n">${t.exitPrice.toFixed(2)}</td><td class="n ${t.pnl < 0 ? 'neg' : 'pos'}">${fmtUsd(t.pnl)}</td><td>${esc(t.tier)}</td><td>${esc(t.model)}</td><td>${esc(t.exitReason)}</td></tr>`).join('')}
</tbody></table>
<script>${chartLibrarySource()}</script>
<script type="application/json" id="report-data">${json}</script>
<script>
(function () {
  var LC = window.LightweightCharts;
  var d = JSON.parse(document.getElementById('report-data').textContent);
  // The whole date range stays on screen: minBarSpacing well below a pixel lets fitContent fit every bucket of
  // a multi-decade run, the range is kept when autoSize resizes the chart, and the edges are pinned (which
  // also pulls the first and last labels fully into view).
  function mk(id, timeScale, extra) {
    var el = document.getElementById(id);
    if (!el) return null;
    var ts = { timeVisible: false, minBarSpacing: 0.01, lockVisibleTimeRangeOnResize: true, fixLeftEdge: true, fixRightEdge: true };
    for (var t in timeScale || {}) ts[t] = timeScale[t];
    var opts = { autoSize: true, layout: { background: { color: '#ffffff' }, textColor: '#1d2330' }, grid: { vertLines: { color: '#f0f2f7' }, horzLines: { color: '#f0f2f7' } }, timeScale: ts };
    for (var k in extra || {}) opts[k] = extra[k];
    return LC.createChart(el, opts);
  }
  function ruinLine(series) { series.createPriceLine({ price: d.ruinLevel, color: '#c62828', lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: 'ruin' }); }
  function fan(id, lines, timeScale, extra) {
    var c = mk(id, timeScale, extra);
    if (!c || !lines.length) return null;
    var colors = { p5: '#ef9a9a', p25: '#ffb74d', p50: '#1565c0', p75: '#81c784', p95: '#2e7d32' };
    lines.forEach(function (f) { var s = c.addSeries(LC.LineSeries, { color: colors[f.name], lineWidth: f.name === 'p50' ? 3 : 2, title: f.name }); s.setData(f.data); if (f.name === 'p5') ruinLine(s); });
    c.timeScale().fitContent();
    return c;
  }
  // The trade fan's x axis is the trade number (steps are stored one "day" apart only to keep the time axis monotonic).
  function tradeNo(t) { return '#' + Math.round((t - d.fanBase) / 86400); }
  var charts = {};
  if (d.equity.length) { var c1 = mk('equity', { timeVisible: d.timeVisible }); if (d.benchmark.length) c1.addSeries(LC.LineSeries, { color: '#8d8d8d', lineWidth: 1, title: 'benchmark', lastValueVisible: false }).setData(d.benchmark); c1.addSeries(LC.AreaSeries, { lineColor: '#1565c0', topColor: 'rgba(21,101,192,0.35)', bottomColor: 'rgba(21,101,192,0.02)' }).setData(d.equity); c1.timeScale().fitContent(); charts.equity = c1; }
  if (d.drawdown.length) { var c2 = mk('drawdown', { timeVisible: d.timeVisible }); c2.addSeries(LC.AreaSeries, { lineColor: '#c62828', topColor: 'rgba(198,40,40,0.05)', bottomColor: 'rgba(198,40,40,0.4)', invertFilledArea: true }).setData(d.drawdown); c2.timeScale().fitContent(); charts.drawdown = c2; }
  if (d.price.length) { var c3 = mk('price', { timeVisible: d.priceTimeVisible }); var s3 = c3.addSeries(LC.CandlestickSeries, {}); s3.setData(d.price); if (d.markers.length) LC.createSeriesMarkers(s3, d.markers); c3.timeScale().fitContent(); charts.price = c3; }
  var f1 = fan('fan-bootstrap', d.fanBoot, { timeVisible: d.timeVisible }); if (f1) charts['fan-bootstrap'] = f1;
  var f2 = fan('fan-trades', d.fanTrades, { tickMarkFormatter: tradeNo }, { localization: { timeFormatter: function (t) { return 'trade ' + tradeNo(t); } } }); if (f2) charts['fan-trades'] = f2;
  window.__reportChartApis = charts;
  window.__reportCharts = Object.keys(charts).length;
})();
</script>
</body></html>
`;
}
