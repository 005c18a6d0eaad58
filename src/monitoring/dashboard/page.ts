/**
 * The live dashboard page: one HTML document that polls /api/dashboard, draws its curves as plain SVG and its
 * gauges with ECharts — served by the same server from node_modules (/assets/echarts.min.js: no CDN, it works
 * offline). Elements carry data-* attributes so a headless browser test can check that each panel rendered
 * with data.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Temporal Trader — live</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#263040; --text:#d8dee9; --muted:#8b96a5; --green:#3fb950; --red:#f85149; --amber:#d29922; --blue:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text); font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  .badge { padding:2px 10px; border-radius:10px; font-weight:600; font-size:12px; }
  .ACTIVE { background:#1f3d2a; color:var(--green); } .REDUCING { background:#3d321a; color:var(--amber); } .HALTED { background:#3d1f1f; color:var(--red); } .UNKNOWN { background:#2a2f36; color:var(--muted); }
  #updated { margin-left:auto; color:var(--muted); font-size:12px; }
  main { display:grid; grid-template-columns: repeat(12, 1fr); gap:12px; padding:12px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-height:120px; }
  section h2 { margin:0 0 8px; font-size:13px; font-weight:600; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
  .w3 { grid-column: span 3; } .w4 { grid-column: span 4; } .w5 { grid-column: span 5; } .w6 { grid-column: span 6; } .w7 { grid-column: span 7; } .w8 { grid-column: span 8; } .w12 { grid-column: span 12; }
  .big { font-size:28px; font-weight:700; } .pos { color:var(--green); } .neg { color:var(--red); } .muted { color:var(--muted); }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:right; padding:3px 6px; border-bottom:1px solid var(--line); } th:first-child, td:first-child { text-align:left; }
  th { color:var(--muted); font-weight:500; }
  svg text { fill: var(--muted); font-size: 11px; }
  .stats { display:flex; gap:24px; flex-wrap:wrap; }
  .stat .label { color:var(--muted); font-size:12px; }
  .gauges { display:flex; gap:8px; justify-content:space-around; flex-wrap:wrap; }
  .gauge { width:150px; height:130px; }
  tr.session { cursor:pointer; } tr.session[data-selected="true"] td { background:#1c2633; }
  .ok { color:var(--green); } .warn { color:var(--amber); }
  .status-running { color:var(--blue); font-weight:600; } .status-finished { color:var(--muted); }
  td.l, th.l { text-align:left; }
  .bar { height:14px; background:#222b36; border-radius:3px; overflow:hidden; } .bar > div { height:100%; }
  .row { display:grid; grid-template-columns: 110px 1fr 60px; align-items:center; gap:8px; margin:4px 0; }
  .dot { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px; }
  #error { color:var(--red); padding:0 20px; }
</style>
</head>
<body data-ready="false">
<header>
  <h1>Temporal Trader</h1>
  <span id="risk-badge" class="badge UNKNOWN">risk: …</span>
  <span id="sources" class="muted"></span>
  <span id="updated">loading…</span>
</header>
<div id="error"></div>
<main>
  <section class="w12" id="sessions-panel"><h2>Sessions (running from Temporal, finished from the store)</h2>
    <table id="sessions"><thead><tr><th>Status</th><th class="l">Session</th><th class="l">Account · mode · date</th><th class="l">Deciding</th><th class="l">Risk</th><th>Start equity</th><th>Equity</th><th>Realised</th><th>Unrealised</th><th>Costs</th><th>Realised + unrealised − costs</th><th>Equity − start</th><th>Check</th><th>Fills</th><th>Orders</th></tr></thead><tbody></tbody></table>
    <div id="sessions-note" class="muted" style="font-size:11px;margin-top:6px"></div></section>
  <section class="w4" id="session-risk-panel"><h2>Session risk <span id="session-risk-title" class="muted"></span></h2><div id="session-risk-state"></div><div class="gauges"><div class="gauge" id="gauge-session-daily-loss"></div><div class="gauge" id="gauge-session-exposure"></div></div></section>
  <section class="w4" id="session-positions-panel"><h2>Session P&amp;L by symbol (average cost)</h2><table id="session-positions"><thead><tr><th>Symbol</th><th>Qty</th><th>Avg</th><th>Mark</th><th>Realised</th><th>Unrealised</th></tr></thead><tbody></tbody></table></section>
  <section class="w4" id="session-fills-panel"><h2>Fills <span id="session-fills-title" class="muted"></span></h2><table id="session-fills"><thead><tr><th>Time (ET)</th><th class="l">Symbol</th><th class="l">Side</th><th>Qty</th><th>Price</th></tr></thead><tbody></tbody></table></section>
  <section class="w12" id="model-panel"><h2>Model <span id="model-title" class="muted"></span></h2>
    <div style="display:flex;gap:16px;align-items:flex-start"><div class="gauge" id="gauge-model-confidence"></div>
    <div style="flex:1"><div id="model-deciding" class="big" style="font-size:18px"></div><div id="model-stats" class="muted"></div>
    <table id="model-latest" style="margin-top:6px"><thead><tr><th class="l">Symbol</th><th class="l">Model</th><th class="l">Role</th><th>Score</th><th>Confidence</th></tr></thead><tbody></tbody></table></div></div></section>
  <section class="w8" id="pnl-panel"><h2>P&amp;L curve (equity: the workers' gauges, else the running sessions')</h2><svg id="pnl-chart" width="100%" height="230" viewBox="0 0 800 230" preserveAspectRatio="none"></svg></section>
  <section class="w4" id="summary-panel"><h2>Today</h2><div id="summary" class="stats"></div></section>
  <section class="w5" id="positions-panel"><h2>Positions</h2><table id="positions"><thead><tr><th>Ticker</th><th>Qty</th><th>Value</th><th>P&amp;L</th></tr></thead><tbody></tbody></table></section>
  <section class="w4" id="risk-panel"><h2>Risk (worker metrics)</h2><div id="gauges" class="gauges"><div class="gauge" id="gauge-daily-loss"></div><div class="gauge" id="gauge-open-risk"></div><div class="gauge" id="gauge-drawdown"></div></div></section>
  <section class="w3" id="models-panel"><h2>Model confidence</h2><div id="models"></div></section>
  <section class="w4" id="workers-panel"><h2>Workers</h2><div id="workers"></div><h2 style="margin-top:12px">Stalest data</h2><div id="stale"></div></section>
  <section class="w8" id="system-panel"><h2>System</h2><div id="system"></div><svg id="cpu-chart" width="100%" height="90" viewBox="0 0 800 90" preserveAspectRatio="none"></svg></section>
</main>
<script src="/assets/echarts.min.js"></script>
<script>
(function () {
  var fmtUsd = function (v) { return v === null || v === undefined ? '–' : (v < 0 ? '-$' : '$') + Math.abs(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }); };
  var fmtPct = function (v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(2) + '%'; };
  var esc = function (s) { return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; }); };
  var cls = function (v) { return v > 0 ? 'pos' : v < 0 ? 'neg' : ''; };

  function lineChart(svg, points, opts) {
    var W = 800, H = +svg.getAttribute('height'), pad = 34;
    if (!points.length) { svg.innerHTML = '<text x="400" y="' + H / 2 + '" text-anchor="middle">no data yet</text>'; svg.dataset.points = '0'; return; }
    var xs = points.map(function (p) { return p[0]; }), ys = points.map(function (p) { return p[1]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (opts.yMin !== undefined) y0 = Math.min(y0, opts.yMin); if (opts.yMax !== undefined) y1 = Math.max(y1, opts.yMax);
    if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y1 += 1; y0 -= 1; }
    var sx = function (x) { return pad + (x - x0) / (x1 - x0) * (W - pad - 8); };
    var sy = function (y) { return 8 + (1 - (y - y0) / (y1 - y0)) * (H - 24); };
    var d = points.map(function (p, i) { return (i ? 'L' : 'M') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1); }).join(' ');
    var area = d + ' L' + sx(x1).toFixed(1) + ',' + (H - 16) + ' L' + sx(x0).toFixed(1) + ',' + (H - 16) + ' Z';
    var grid = '';
    for (var i = 0; i <= 3; i++) { var gy = y0 + (y1 - y0) * i / 3; grid += '<line x1="' + pad + '" x2="' + W + '" y1="' + sy(gy) + '" y2="' + sy(gy) + '" stroke="#263040"/><text x="2" y="' + (sy(gy) + 4) + '">' + esc(opts.fmt(gy)) + '</text>'; }
    svg.innerHTML = grid + '<path d="' + area + '" fill="' + opts.color + '" fill-opacity="0.12"/><path class="series" d="' + d + '" fill="none" stroke="' + opts.color + '" stroke-width="2"/>';
    svg.dataset.points = String(points.length);
  }

  var charts = {};
  /** An ECharts gauge in the element \`id\` (value and max are fractions); data-value carries the value for tests. */
  function gauge(id, label, value, max, warn, higherIsBetter) {
    var el = document.getElementById(id);
    if (!el) return;
    el.dataset.value = value === null || value === undefined ? '' : String(value);
    if (typeof echarts === 'undefined') { el.textContent = label + ': ' + fmtPct(value); return; }
    var chart = charts[id] || (charts[id] = echarts.init(el, null, { renderer: 'svg' }));
    var v = value === null || value === undefined ? 0 : Math.max(0, Math.min(value, max));
    chart.setOption({
      animation: false,
      series: [{
        type: 'gauge', min: 0, max: max * 100, startAngle: 210, endAngle: -30, radius: '92%', center: ['50%', '52%'],
        axisLine: { lineStyle: { width: 12, color: [[1, '#222b36']] } },
        progress: { show: true, width: 12, itemStyle: { color: value === null || value === undefined ? '#2a2f36' : higherIsBetter ? (value >= warn ? '#3fb950' : value >= warn * 0.66 ? '#d29922' : '#f85149') : value >= max ? '#f85149' : value >= warn ? '#d29922' : '#3fb950' } },
        pointer: { show: false }, anchor: { show: false }, axisTick: { show: false }, splitLine: { show: false }, axisLabel: { show: false },
        title: { offsetCenter: [0, '62%'], color: '#8b96a5', fontSize: 11 },
        detail: { offsetCenter: [0, '5%'], color: '#d8dee9', fontSize: 18, fontWeight: 600, formatter: function () { return value === null || value === undefined ? '–' : fmtPct(value); } },
        data: [{ value: v * 100, name: label }]
      }]
    });
  }

  function bar(label, frac, text, color) {
    var f = Math.max(0, Math.min(1, frac || 0));
    return '<div class="row"><span>' + esc(label) + '</span><div class="bar"><div style="width:' + (f * 100).toFixed(1) + '%;background:' + color + '"></div></div><span>' + esc(text) + '</span></div>';
  }

  var selected = null;
  var lastBoard = null;
  var etTime = function (ms) { return new Date(ms).toLocaleTimeString('en-US', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hour12: false }); };
  var num = function (v, d) { return v === null || v === undefined ? '–' : Number(v).toFixed(d); };

  function renderSessions(board) {
    lastBoard = board;
    var all = (board.running || []).concat(board.finished || []);
    if (!all.some(function (x) { return x.sessionId === selected; })) selected = all.length ? all[0].sessionId : null;
    document.querySelector('#sessions tbody').innerHTML = all.length ? all.map(function (x) {
      var sum = Math.round((x.realized + x.unrealized - (x.costs || 0)) * 100) / 100;
      var check = x.addsUp ? '<span class="ok">✓ adds up</span>' : '<span class="warn" title="' + (x.costs === null ? 'the broker holds positions these fills did not open' : 'equity gained more than the fills made: fills missing from the audit log?') + '">⚠ fills do not explain the account</span>';
      var state = x.riskState + (x.paused ? ' · paused' : '') + (x.killed ? ' · killed' : '');
      var asOf = x.status === 'running' ? (x.lastDecisionTs ? 'the broker’s equity at the last decision (' + etTime(x.lastDecisionTs) + ' ET)' : 'the broker’s equity at the start') : 'the broker’s equity at the end';
      return '<tr class="session" data-session="' + esc(x.sessionId) + '" data-status="' + x.status + '" data-selected="' + (x.sessionId === selected) + '">' +
        '<td class="status-' + x.status + '">' + x.status + '</td><td class="l">' + esc(x.sessionId) + '</td><td class="l">' + esc(x.account + ' · ' + x.mode + ' · ' + x.date) + '</td>' +
        '<td class="l">' + esc(x.model.modelId ? x.model.modelId : 'indicators') + '</td><td class="l"><span class="badge ' + esc(x.riskState) + '">' + esc(state) + '</span></td>' +
        '<td class="start">' + fmtUsd(x.startEquity) + '</td><td class="equity" title="' + esc(asOf) + '">' + fmtUsd(x.equity) + '</td>' +
        '<td class="realized ' + cls(x.realized) + '">' + fmtUsd(x.realized) + '</td><td class="unrealized ' + cls(x.unrealized) + '">' + fmtUsd(x.unrealized) + '</td>' +
        '<td class="costs">' + fmtUsd(x.costs) + '</td><td class="sum ' + cls(sum) + '">' + fmtUsd(sum) + '</td><td class="pnl ' + cls(x.pnl) + '">' + fmtUsd(x.pnl) + '</td><td class="check">' + check + '</td>' +
        '<td class="fills" title="' + x.fillsAfterAccount + ' after the last account read">' + (x.fills.count - x.fillsAfterAccount) + (x.fillsAfterAccount ? ' (+' + x.fillsAfterAccount + ' pending)' : '') + '</td><td class="orders">' + x.ordersPlaced + '</td></tr>';
    }).join('') : '<tr><td colspan="15" class="muted l">' + ((board.sources || []).length ? 'no session: none running in Temporal, none recorded in the store' : 'sessions are not read here: no store configured') + '</td></tr>';
    document.getElementById('sessions-note').textContent = (board.sources || []).map(function (x) { return (x.ok ? '● ' : '✖ ') + x.source + (x.error ? ' (' + x.error + ')' : ''); }).join('  ') +
      '   Against the broker’s account as the session last read it (running: at its last decision). Realised: average cost over the audit log’s fills; unrealised: open quantity × (last price − average cost); costs: commissions and fees, the part of equity − start the fill prices do not explain. Pending fills count from the next decision.';
    Array.prototype.forEach.call(document.querySelectorAll('#sessions tr.session'), function (tr) {
      tr.onclick = function () { selected = tr.dataset.session; renderSessions(lastBoard); };
    });
    renderSessionDetail(all.filter(function (x) { return x.sessionId === selected; })[0] || null);
  }

  function renderSessionDetail(x) {
    document.getElementById('session-risk-title').textContent = x ? x.sessionId : '';
    document.getElementById('session-fills-title').textContent = x ? x.fills.count + ' fills · ' + num(x.fills.shares, 0) + ' shares · ' + fmtUsd(x.fills.notional) : '';
    document.getElementById('model-title').textContent = x ? x.sessionId : '';
    document.getElementById('session-risk-state').innerHTML = x ? '<span class="badge ' + esc(x.riskState) + '" id="session-risk-badge">' + esc(x.riskState) + '</span> <span class="muted">' + esc(x.riskReason || '') + '</span>' +
      '<div class="muted" style="font-size:11px">' + x.denied + ' denied · ' + x.ordersPlaced + ' placed' + (x.dayReport ? ' · day report: slippage ' + num(x.dayReport.slippageAvgBps, 1) + ' bps, ' + (x.dayReport.flat ? 'flat' : 'NOT flat') : '') + '</div>' : '<span class="muted">no session</span>';
    var lim = x && x.dailyLossLimit ? x.dailyLossLimit : 0.03, gx = x && x.maxGrossExposure ? x.maxGrossExposure : 1;
    gauge('gauge-session-daily-loss', 'daily loss / ' + fmtPct(lim), x ? x.dailyLossRatio : null, lim, lim * 0.75);
    gauge('gauge-session-exposure', 'gross exposure / ' + fmtPct(gx), x ? x.grossExposureRatio : null, gx, gx * 0.8);
    document.querySelector('#session-positions tbody').innerHTML = x && x.positions.length ? x.positions.map(function (p) {
      return '<tr class="session-position" data-symbol="' + esc(p.symbol) + '"><td>' + esc(p.symbol) + '</td><td>' + p.qty + '</td><td>' + num(p.qty ? p.avgPrice : null, 2) + '</td><td>' + num(p.mark, 2) + '</td><td class="' + cls(p.realized) + '">' + fmtUsd(p.realized) + '</td><td class="' + cls(p.unrealized) + '">' + fmtUsd(p.unrealized) + '</td></tr>';
    }).join('') : '<tr><td colspan="6" class="muted">no fills</td></tr>';
    document.querySelector('#session-fills tbody').innerHTML = x && x.fills.recent.length ? x.fills.recent.map(function (f) {
      return '<tr class="fill"><td>' + etTime(f.at) + '</td><td class="l">' + esc(f.symbol) + '</td><td class="l ' + (f.side === 'buy' ? 'pos' : 'neg') + '">' + f.side + '</td><td>' + f.qty + '</td><td>' + num(f.price, 2) + '</td></tr>';
    }).join('') : '<tr><td colspan="5" class="muted">no fills</td></tr>';
    var m = x ? x.model : null;
    document.getElementById('model-deciding').textContent = m ? (m.modelId ? 'model ' + m.modelId : 'indicators (no model)') : '–';
    document.getElementById('model-deciding').dataset.model = m && m.modelId ? m.modelId : '';
    document.getElementById('model-stats').textContent = m ? (m.modelId ? m.predictions + ' predictions journaled' + (m.lastTs ? ', latest at ' + etTime(m.lastTs) + ' ET' : '') + (m.shadows.length ? ' · shadows: ' + m.shadows.join(', ') : '') : m.deciding) : '';
    gauge('gauge-model-confidence', 'mean confidence', m ? m.meanConfidence : null, 1, 0.6, true);
    document.querySelector('#model-latest tbody').innerHTML = m && m.latest.length ? m.latest.map(function (p) {
      return '<tr class="prediction"><td class="l">' + esc(p.symbol) + '</td><td class="l">' + esc(p.modelId) + '</td><td class="l">' + p.role + '</td><td class="' + cls(p.score) + '">' + num(p.score, 3) + '</td><td>' + fmtPct(p.confidence) + '</td></tr>';
    }).join('') : '<tr><td colspan="5" class="muted l">' + (m && m.modelId ? 'no prediction journaled yet' : 'no model: no predictions') + '</td></tr>';
  }

  function render(s) {
    var acct = s.accounts[0] || {};
    var runningNow = (s.sessions && s.sessions.running) || [];
    // without the workers' account gauges, the running sessions' figures (from the broker as they last read it)
    if (acct.equity === null || acct.equity === undefined) {
      if (runningNow.length) {
        var eq = runningNow.reduce(function (a, x) { return a + x.equity; }, 0), st = runningNow.reduce(function (a, x) { return a + x.startEquity; }, 0);
        acct = { equity: eq, dailyPnl: eq - st, dailyPnlRatio: st ? (eq - st) / st : null, riskState: acct.riskState || runningNow[0].riskState,
          openRiskRatio: acct.openRiskRatio, drawdownRatio: acct.drawdownRatio, dailyLossLimitRatio: acct.dailyLossLimitRatio };
      }
    }
    var state = acct.riskState || 'UNKNOWN';
    var badge = document.getElementById('risk-badge');
    badge.className = 'badge ' + state; badge.textContent = 'risk: ' + state;
    document.getElementById('sources').textContent = s.sources.map(function (x) { return (x.ok ? '● ' : '✖ ') + x.source; }).join('  ');
    document.getElementById('updated').textContent = 'updated ' + new Date(s.generatedAtMs).toLocaleTimeString();

    lineChart(document.getElementById('pnl-chart'), s.pnlCurve.map(function (p) { return [p.t, p.equity]; }), { color: '#58a6ff', fmt: function (v) { return '$' + Math.round(v).toLocaleString('en-US'); } });

    // running sessions' P&L from their fills when the store is read; else the workers' P&L gauges
    var running = (s.sessions && s.sessions.running) || [];
    var totalReal = running.length ? running.reduce(function (a, x) { return a + x.realized; }, 0) : s.pnlByTicker.reduce(function (a, t) { return a + t.realized; }, 0);
    var totalUnreal = running.length ? running.reduce(function (a, x) { return a + x.unrealized; }, 0) : s.pnlByTicker.reduce(function (a, t) { return a + t.unrealized; }, 0);
    document.getElementById('summary').innerHTML =
      '<div class="stat"><div class="label">Daily P&amp;L</div><div class="big ' + cls(acct.dailyPnl) + '" id="daily-pnl">' + fmtUsd(acct.dailyPnl) + '</div><div class="' + cls(acct.dailyPnlRatio) + '">' + fmtPct(acct.dailyPnlRatio) + '</div></div>' +
      '<div class="stat"><div class="label">Equity</div><div class="big">' + fmtUsd(acct.equity) + '</div></div>' +
      '<div class="stat"><div class="label">Realised / unrealised' + (running.length ? ' (running sessions)' : '') + '</div><div><span id="summary-realized" class="' + cls(totalReal) + '">' + fmtUsd(totalReal) + '</span> / <span id="summary-unrealized" class="' + cls(totalUnreal) + '">' + fmtUsd(totalUnreal) + '</span></div></div>' +
      '<div class="stat"><div class="label">Orders sub / fill / rej</div><div>' + s.orders.submitted + ' / ' + s.orders.filled + ' / ' + s.orders.rejected + '</div></div>' +
      '<div class="stat"><div class="label">Slippage · latency</div><div>' + (s.orders.meanSlippageBps === null ? '–' : s.orders.meanSlippageBps.toFixed(1) + ' bps') + ' · ' + (s.orders.meanDecisionLatencySeconds === null ? '–' : (s.orders.meanDecisionLatencySeconds * 1000).toFixed(0) + ' ms') + '</div></div>';

    var pnlOf = {}; s.pnlByTicker.forEach(function (t) { pnlOf[t.ticker] = t.realized + t.unrealized; });
    document.querySelector('#positions tbody').innerHTML = s.positions.length ? s.positions.map(function (p) {
      var pl = pnlOf[p.ticker]; return '<tr class="position"><td>' + esc(p.ticker) + '</td><td>' + p.quantity + '</td><td>' + fmtUsd(p.marketValue) + '</td><td class="' + cls(pl) + '">' + fmtUsd(pl === undefined ? null : pl) + '</td></tr>';
    }).join('') : '<tr><td colspan="4" class="muted">flat</td></tr>';

    var lossUsed = acct.dailyPnlRatio !== null && acct.dailyPnlRatio !== undefined && acct.dailyLossLimitRatio ? Math.max(0, -acct.dailyPnlRatio) : null;
    gauge('gauge-daily-loss', 'daily loss / ' + fmtPct(acct.dailyLossLimitRatio || 0.03), lossUsed, acct.dailyLossLimitRatio || 0.03, (acct.dailyLossLimitRatio || 0.03) * 0.75);
    gauge('gauge-open-risk', 'open risk / 20%', acct.openRiskRatio === undefined ? null : acct.openRiskRatio, 0.2, 0.15);
    gauge('gauge-drawdown', 'drawdown / 8%', acct.drawdownRatio === undefined ? null : acct.drawdownRatio, 0.08, 0.05);
    renderSessions(s.sessions);

    document.getElementById('models').innerHTML = s.models.length ? s.models.map(function (m) {
      var c = m.confidence === null ? 0 : m.confidence;
      return '<div class="model" data-model="' + esc(m.model) + '">' + bar(m.model, c, fmtPct(m.confidence), c >= 0.6 ? '#3fb950' : c >= 0.4 ? '#d29922' : '#f85149') +
        '<div class="muted" style="font-size:11px;margin:-2px 0 6px">drift PSI ' + (m.drift === null ? '–' : m.drift.toFixed(3)) + ' · ' + m.predictions + ' predictions</div></div>';
    }).join('') : '<span class="muted">no model has scored yet</span>';

    document.getElementById('workers').innerHTML = s.workers.length ? s.workers.map(function (w) {
      return '<div class="worker"><span class="dot" style="background:' + (w.up ? '#3fb950' : '#f85149') + '"></span>' + esc(w.queue) + ' <span class="muted">' + (w.up ? 'polling' : 'DOWN') + ' · ' + esc(w.source) + '</span></div>';
    }).join('') : '<span class="muted">no worker reports trader_worker_up</span>';
    document.getElementById('stale').innerHTML = s.staleData.length ? s.staleData.map(function (d) {
      return '<div>' + esc(d.symbol) + ' ' + esc(d.timeframe) + ' <span class="' + (d.seconds > 180 ? 'neg' : 'muted') + '">' + Math.round(d.seconds) + ' s</span></div>';
    }).join('') : '<span class="muted">no bars tracked</span>';

    var sys = s.system;
    var gpuHtml = sys.gpus.length ? sys.gpus.map(function (g) {
      return bar('GPU ' + g.index, g.utilization, fmtPct(g.utilization), '#a371f7') + bar('  mem', g.memoryUsedBytes / (g.memoryTotalBytes || 1), (g.memoryUsedBytes / 1073741824).toFixed(1) + ' GiB', '#6e40c9');
    }).join('') : '<div class="muted" id="gpu-note">' + esc(sys.gpuNote || 'no GPU') + '</div>';
    document.getElementById('system').innerHTML = '<div id="cpu-row">' + bar('CPU (' + sys.cores + ' cores)', sys.cpuUtilization, fmtPct(sys.cpuUtilization), '#58a6ff') + '</div>' + bar('Memory', sys.memoryUsedRatio, fmtPct(sys.memoryUsedRatio), '#3fb950') + gpuHtml;
    lineChart(document.getElementById('cpu-chart'), sys.cpuHistory.map(function (v, i) { return [i, v]; }), { color: '#58a6ff', yMin: 0, yMax: 1, fmt: function (v) { return Math.round(v * 100) + '%'; } });
    document.body.dataset.ready = 'true';
  }

  function poll() {
    fetch('/api/dashboard', { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status); return r.json();
    }).then(function (s) { document.getElementById('error').textContent = ''; render(s); })
      .catch(function (e) { document.getElementById('error').textContent = 'dashboard data unavailable: ' + e.message; })
      .finally(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
</script>
</body>
</html>
`;
