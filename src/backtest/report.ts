/**
 * A self-contained HTML report: one file a person can open offline. The charting library (TradingView's
 * lightweight-charts, Apache-2.0) is read from node_modules and inlined — no CDN. Charts: equity, drawdown,
 * price with trade markers, and the Monte Carlo fan; tables: metrics, attribution, Monte Carlo, risk
 * denials, sensitivity and walk-forward when given, and the trades.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BarColumns } from '../model/bar';
import type { BacktestResult } from './engine';
import { maxDrawdown, type Attribution, type AttributionRow, type BacktestMetrics } from './metrics';
import type { McSummary } from './monte-carlo';
import type { SensitivityRow, WalkForwardFold } from './sensitivity';

export interface ReportInput {
  readonly title: string;
  readonly result: BacktestResult;
  readonly metrics: BacktestMetrics;
  readonly attribution: Attribution;
  readonly monteCarlo?: { readonly tradeOrder?: McSummary; readonly bootstrap?: McSummary };
  /** bars of the symbol drawn with its trades */
  readonly price?: BarColumns;
  readonly sensitivity?: readonly SensitivityRow[];
  readonly walkForward?: readonly WalkForwardFold[];
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

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmtPct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
const fmtNum = (x: number | null, d = 2) =>
  x === null ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const fmtUsd = (x: number | null) => (x === null ? '—' : `${x < 0 ? '−' : ''}$${fmtNum(Math.abs(x))}`);

/** At most `max` points, always keeping the first and last (and strictly increasing seconds for the chart). */
function downsample(
  ts: ArrayLike<number>,
  v: ArrayLike<number>,
  max = 4000,
): Array<{ time: number; value: number }> {
  const n = ts.length;
  const step = Math.max(1, Math.ceil(n / max));
  const out: Array<{ time: number; value: number }> = [];
  let lastT = -Infinity;
  for (let i = 0; i < n; i += step) push(i);
  if (n > 0 && (n - 1) % step !== 0) push(n - 1);
  function push(i: number) {
    const t = Math.floor(ts[i]! / 1000);
    if (t <= lastT) return;
    lastT = t;
    out.push({ time: t, value: Math.round(v[i]! * 100) / 100 });
  }
  return out;
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

function mcTable(name: string, m: McSummary): string {
  return `<tr><td>${esc(name)}</td><td class="n">${m.runs}</td><td class="n">${fmtUsd(m.finalEquity.p5)}</td><td class="n">${fmtUsd(m.finalEquity.p50)}</td><td class="n">${fmtUsd(m.finalEquity.p95)}</td><td class="n">${fmtPct(m.maxDrawdown.p50)}</td><td class="n">${fmtPct(m.maxDrawdown.p95)}</td><td class="n">${fmtPct(m.probabilityOfRuin)}</td></tr>`;
}

export function renderReport(input: ReportInput): string {
  const { result: r, metrics: m } = input;
  const equity = downsample(r.equityTs, r.equity);
  const dd = maxDrawdown(r.equityTs, r.equity).drawdown;
  const drawdown = downsample(
    r.equityTs,
    Float64Array.from(dd, (x) => -x * 100),
  );
  let price: Array<{ time: number; open: number; high: number; low: number; close: number }> = [];
  let markers: Array<{ time: number; position: string; color: string; shape: string; text: string }> = [];
  if (input.price) {
    const p = input.price;
    const step = Math.max(1, Math.ceil(p.ts.length / 4000));
    let lastT = -Infinity;
    for (let i = 0; i < p.ts.length; i += step) {
      const t = Math.floor(p.ts[i]! / 1000);
      if (t <= lastT) continue;
      lastT = t;
      price.push({ time: t, open: p.open[i]!, high: p.high[i]!, low: p.low[i]!, close: p.close[i]! });
    }
    const snap = (ms: number) => {
      // markers must sit on a drawn bar: the last bar at or before the fill
      const t = Math.floor(ms / 1000);
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
  if (price.length === 0) price = [];
  const mc = input.monteCarlo?.tradeOrder ?? input.monteCarlo?.bootstrap;
  // the fan has no calendar: steps are drawn one "day" apart from 2000-01-01 so the time axis stays monotonic
  const fanBase = Date.UTC(2000, 0, 1) / 1000;
  const fan = mc
    ? (['p5', 'p25', 'p50', 'p75', 'p95'] as const).map((k) => ({
        name: k,
        data: mc.fan.step.map((s, i) => ({
          time: fanBase + s * 86_400,
          value: Math.round(mc.fan[k][i]! * 100) / 100,
        })),
      }))
    : [];
  const data = { equity, drawdown, price, markers, fan, fanBase, symbol: input.price?.symbol ?? '' };
  const json = JSON.stringify(data).replace(/</g, '\\u003c');

  const metricRows: Array<[string, string]> = [
    ['Start equity', fmtUsd(m.startEquity)],
    ['End equity', fmtUsd(m.endEquity)],
    ['Net profit', fmtUsd(m.netProfit)],
    ['Total return', fmtPct(m.totalReturn)],
    ['CAGR', fmtPct(m.cagr)],
    ['Sharpe', fmtNum(m.sharpe)],
    ['Sortino', fmtNum(m.sortino)],
    ['Calmar', fmtNum(m.calmar)],
    ['Max drawdown', fmtPct(m.maxDrawdown)],
    ['Annual volatility', fmtPct(m.annualVolatility)],
    ['Trades', String(m.trades)],
    ['Win rate', fmtPct(m.winRate)],
    ['Profit factor', fmtNum(m.profitFactor)],
    ['Expectancy / trade', fmtUsd(m.expectancy)],
    ['VaR 95 (1 period)', fmtPct(m.var95)],
    ['Expected shortfall 95', fmtPct(m.es95)],
    ['Risk of ruin (50% DD)', fmtPct(m.riskOfRuin)],
    ['Exposure (time invested)', fmtPct(m.exposure)],
    ['Turnover (× equity / yr)', fmtNum(m.turnover)],
    ['Costs (commission, fees, borrow)', fmtUsd(m.totalCosts)],
    ['Return basis', `${m.returnBasis} (${m.periods} periods)`],
  ];
  const denials = Object.entries(r.deniedByRule).sort((a, b) => b[1] - a[1]);
  const trades = r.trades.slice(0, 500);
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
  const sens = input.sensitivity ?? [];
  const sensKeys = sens.length ? Object.keys(sens[0]!.params) : [];
  const wf = input.walkForward ?? [];

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6ee;padding-bottom:4px}
.sub{color:#5d6475;margin-bottom:16px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px}
.chart{height:320px;border:1px solid #e3e6ee;border-radius:6px}
table{border-collapse:collapse;margin:8px 0 16px;min-width:320px}caption{text-align:left;font-weight:600;padding:4px 0}
td,th{border-bottom:1px solid #eef0f5;padding:4px 10px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pos{color:#2e7d32}.neg{color:#c62828}.warn{background:#fff4e5;border:1px solid #ffcc80;padding:8px 12px;border-radius:6px}
</style></head><body>
<h1>${esc(input.title)}</h1>
<div class="sub">${esc(r.strategy)} · symbols ${esc(r.symbols.join(', '))} · timeframes ${esc(r.timeframes.join(', '))} · seed ${r.seed} · ${r.barEvents.toLocaleString('en-US')} bar events · order hash <code>${r.orderHash}</code>${input.generatedAt ? ` · generated ${esc(new Date(input.generatedAt).toISOString())}` : ''}</div>
${r.stopped ? `<p class="warn">Run stopped: ${esc(r.stopped.message)}</p>` : ''}
<div class="grid">
<div><h2>Equity</h2><div id="equity" class="chart"></div></div>
<div><h2>Drawdown (%)</h2><div id="drawdown" class="chart"></div></div>
<div><h2>Trades on ${esc(data.symbol || 'price')}</h2><div id="price" class="chart"></div></div>
<div><h2>Monte Carlo fan (trade order${mc === input.monteCarlo?.bootstrap ? ', bootstrap' : ''}; equity by trade number)</h2><div id="fan" class="chart"></div></div>
</div>
<h2>Statistics</h2>
<table><tbody>${metricRows.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${esc(v)}</td></tr>`).join('')}</tbody></table>
<h2>Dollar P&amp;L attribution</h2>
<div class="grid">${attributionTable('P&L by ticker', input.attribution.byTicker)}${attributionTable('P&L by timeframe', input.attribution.byTimeframe)}${attributionTable('P&L by tier', input.attribution.byTier)}${attributionTable('P&L by model', input.attribution.byModel)}</div>
${input.monteCarlo ? `<h2>Monte Carlo</h2><table><thead><tr><th>method</th><th>runs</th><th>final p5</th><th>final p50</th><th>final p95</th><th>max DD p50</th><th>max DD p95</th><th>P(ruin)</th></tr></thead><tbody>${input.monteCarlo.tradeOrder ? mcTable('trade order (re-sized)', input.monteCarlo.tradeOrder) : ''}${input.monteCarlo.bootstrap ? mcTable('resampled returns', input.monteCarlo.bootstrap) : ''}</tbody></table>` : ''}
<h2>Risk engine</h2>
<table><thead><tr><th>rule</th><th>denials</th></tr></thead><tbody>${denials.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${v}</td></tr>`).join('') || '<tr><td colspan="2">no denials</td></tr>'}</tbody></table>
<p>${r.submitted} orders submitted, ${r.fillCount} fills, ${r.rejectedByBroker} broker rejections, ${r.riskModeChanges.length} risk-mode changes.</p>
${sens.length ? `<h2>Parameter sensitivity</h2><table><thead><tr>${sensKeys.map((k) => `<th>${esc(k)}</th>`).join('')}<th>Sharpe</th><th>net profit</th><th>max DD</th><th>trades</th></tr></thead><tbody>${sens.map((s) => `<tr>${sensKeys.map((k) => `<td class="n">${s.params[k]}</td>`).join('')}<td class="n">${fmtNum(s.metrics.sharpe)}</td><td class="n">${fmtUsd(s.metrics.netProfit)}</td><td class="n">${fmtPct(s.metrics.maxDrawdown)}</td><td class="n">${s.metrics.trades}</td></tr>`).join('')}</tbody></table>` : ''}
${wf.length ? `<h2>Walk-forward (out of sample)</h2><table><thead><tr><th>fold</th><th>in-sample</th><th>out-of-sample</th><th>chosen</th><th>OOS Sharpe</th><th>OOS net profit</th><th>OOS trades</th></tr></thead><tbody>${wf.map((f, i) => `<tr><td>${i + 1}</td><td>${iso(f.inSample.from).slice(0, 10)} → ${iso(f.inSample.to).slice(0, 10)}</td><td>${iso(f.outOfSample.from).slice(0, 10)} → ${iso(f.outOfSample.to).slice(0, 10)}</td><td>${esc(JSON.stringify(f.chosen))}</td><td class="n">${fmtNum(f.outOfSampleMetrics.sharpe)}</td><td class="n">${fmtUsd(f.outOfSampleMetrics.netProfit)}</td><td class="n">${f.outOfSampleMetrics.trades}</td></tr>`).join('')}</tbody></table>` : ''}
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
  function mk(id, extra) {
    var el = document.getElementById(id);
    var opts = { autoSize: true, layout: { background: { color: '#ffffff' }, textColor: '#1d2330' }, grid: { vertLines: { color: '#f0f2f7' }, horzLines: { color: '#f0f2f7' } }, timeScale: { timeVisible: true } };
    for (var k in extra || {}) opts[k] = extra[k];
    return LC.createChart(el, opts);
  }
  // The fan's x axis is the trade number (steps are stored one "day" apart only to keep the time axis monotonic).
  function tradeNo(t) { return '#' + Math.round((t - d.fanBase) / 86400); }
  var rendered = 0;
  if (d.equity.length) { var c1 = mk('equity'); c1.addSeries(LC.AreaSeries, { lineColor: '#1565c0', topColor: 'rgba(21,101,192,0.35)', bottomColor: 'rgba(21,101,192,0.02)' }).setData(d.equity); c1.timeScale().fitContent(); rendered++; }
  if (d.drawdown.length) { var c2 = mk('drawdown'); c2.addSeries(LC.AreaSeries, { lineColor: '#c62828', topColor: 'rgba(198,40,40,0.05)', bottomColor: 'rgba(198,40,40,0.4)', invertFilledArea: true }).setData(d.drawdown); c2.timeScale().fitContent(); rendered++; }
  if (d.price.length) { var c3 = mk('price'); var s3 = c3.addSeries(LC.CandlestickSeries, {}); s3.setData(d.price); if (d.markers.length) LC.createSeriesMarkers(s3, d.markers); c3.timeScale().fitContent(); rendered++; }
  if (d.fan.length) { var c4 = mk('fan', { timeScale: { tickMarkFormatter: tradeNo }, localization: { timeFormatter: function (t) { return 'trade ' + tradeNo(t); } } }); var colors = { p5: '#ef9a9a', p25: '#ffb74d', p50: '#1565c0', p75: '#81c784', p95: '#2e7d32' }; d.fan.forEach(function (f) { c4.addSeries(LC.LineSeries, { color: colors[f.name], lineWidth: f.name === 'p50' ? 3 : 2, title: f.name }).setData(f.data); }); c4.timeScale().fitContent(); rendered++; }
  window.__reportCharts = rendered;
})();
</script>
</body></html>
`;
}
