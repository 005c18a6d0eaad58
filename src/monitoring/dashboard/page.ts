/**
 * The live dashboard page: one self-contained HTML document (no CDN, no external assets) that polls
 * /api/dashboard and draws plain SVG charts. Elements carry data-* attributes so a headless browser test can
 * check that each panel rendered with data.
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
  <section class="w8" id="pnl-panel"><h2>P&amp;L curve (equity)</h2><svg id="pnl-chart" width="100%" height="230" viewBox="0 0 800 230" preserveAspectRatio="none"></svg></section>
  <section class="w4" id="summary-panel"><h2>Today</h2><div id="summary" class="stats"></div></section>
  <section class="w5" id="positions-panel"><h2>Positions</h2><table id="positions"><thead><tr><th>Ticker</th><th>Qty</th><th>Value</th><th>P&amp;L</th></tr></thead><tbody></tbody></table></section>
  <section class="w4" id="risk-panel"><h2>Risk</h2><div id="gauges" class="gauges"></div></section>
  <section class="w3" id="models-panel"><h2>Model confidence</h2><div id="models"></div></section>
  <section class="w4" id="workers-panel"><h2>Workers</h2><div id="workers"></div><h2 style="margin-top:12px">Stalest data</h2><div id="stale"></div></section>
  <section class="w8" id="system-panel"><h2>System</h2><div id="system"></div><svg id="cpu-chart" width="100%" height="90" viewBox="0 0 800 90" preserveAspectRatio="none"></svg></section>
</main>
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

  function gauge(label, value, max, warn, id) {
    var frac = value === null ? 0 : Math.max(0, Math.min(1, value / max));
    var color = value === null ? '#2a2f36' : value >= max ? '#f85149' : value >= warn ? '#d29922' : '#3fb950';
    var a = Math.PI * (1 - frac), x = 60 + 48 * Math.cos(a), y = 60 - 48 * Math.sin(a);
    var arc = frac > 0 ? '<path d="M12,60 A48,48 0 0,1 ' + x.toFixed(1) + ',' + y.toFixed(1) + '" stroke="' + color + '" stroke-width="10" fill="none"/>' : '';
    return '<svg class="gauge" id="' + id + '" data-value="' + (value === null ? '' : value) + '" width="120" height="82" viewBox="0 0 120 82"><path d="M12,60 A48,48 0 0,1 108,60" stroke="#222b36" stroke-width="10" fill="none"/>' + arc +
      '<text x="60" y="58" text-anchor="middle" style="fill:#d8dee9;font-size:14px;font-weight:600">' + esc(fmtPct(value)) + '</text><text x="60" y="78" text-anchor="middle">' + esc(label) + '</text></svg>';
  }

  function bar(label, frac, text, color) {
    var f = Math.max(0, Math.min(1, frac || 0));
    return '<div class="row"><span>' + esc(label) + '</span><div class="bar"><div style="width:' + (f * 100).toFixed(1) + '%;background:' + color + '"></div></div><span>' + esc(text) + '</span></div>';
  }

  function render(s) {
    var acct = s.accounts[0] || {};
    var state = acct.riskState || 'UNKNOWN';
    var badge = document.getElementById('risk-badge');
    badge.className = 'badge ' + state; badge.textContent = 'risk: ' + state;
    document.getElementById('sources').textContent = s.sources.map(function (x) { return (x.ok ? '● ' : '✖ ') + x.source; }).join('  ');
    document.getElementById('updated').textContent = 'updated ' + new Date(s.generatedAtMs).toLocaleTimeString();

    lineChart(document.getElementById('pnl-chart'), s.pnlCurve.map(function (p) { return [p.t, p.equity]; }), { color: '#58a6ff', fmt: function (v) { return '$' + Math.round(v).toLocaleString('en-US'); } });

    var totalReal = s.pnlByTicker.reduce(function (a, t) { return a + t.realized; }, 0), totalUnreal = s.pnlByTicker.reduce(function (a, t) { return a + t.unrealized; }, 0);
    document.getElementById('summary').innerHTML =
      '<div class="stat"><div class="label">Daily P&amp;L</div><div class="big ' + cls(acct.dailyPnl) + '" id="daily-pnl">' + fmtUsd(acct.dailyPnl) + '</div><div class="' + cls(acct.dailyPnlRatio) + '">' + fmtPct(acct.dailyPnlRatio) + '</div></div>' +
      '<div class="stat"><div class="label">Equity</div><div class="big">' + fmtUsd(acct.equity) + '</div></div>' +
      '<div class="stat"><div class="label">Realized / unrealized</div><div><span class="' + cls(totalReal) + '">' + fmtUsd(totalReal) + '</span> / <span class="' + cls(totalUnreal) + '">' + fmtUsd(totalUnreal) + '</span></div></div>' +
      '<div class="stat"><div class="label">Orders sub / fill / rej</div><div>' + s.orders.submitted + ' / ' + s.orders.filled + ' / ' + s.orders.rejected + '</div></div>' +
      '<div class="stat"><div class="label">Slippage · latency</div><div>' + (s.orders.meanSlippageBps === null ? '–' : s.orders.meanSlippageBps.toFixed(1) + ' bps') + ' · ' + (s.orders.meanDecisionLatencySeconds === null ? '–' : (s.orders.meanDecisionLatencySeconds * 1000).toFixed(0) + ' ms') + '</div></div>';

    var pnlOf = {}; s.pnlByTicker.forEach(function (t) { pnlOf[t.ticker] = t.realized + t.unrealized; });
    document.querySelector('#positions tbody').innerHTML = s.positions.length ? s.positions.map(function (p) {
      var pl = pnlOf[p.ticker]; return '<tr class="position"><td>' + esc(p.ticker) + '</td><td>' + p.quantity + '</td><td>' + fmtUsd(p.marketValue) + '</td><td class="' + cls(pl) + '">' + fmtUsd(pl === undefined ? null : pl) + '</td></tr>';
    }).join('') : '<tr><td colspan="4" class="muted">flat</td></tr>';

    var lossUsed = acct.dailyPnlRatio !== null && acct.dailyPnlRatio !== undefined && acct.dailyLossLimitRatio ? Math.max(0, -acct.dailyPnlRatio) : null;
    document.getElementById('gauges').innerHTML =
      gauge('daily loss / ' + fmtPct(acct.dailyLossLimitRatio || 0.03), lossUsed, acct.dailyLossLimitRatio || 0.03, (acct.dailyLossLimitRatio || 0.03) * 0.75, 'gauge-daily-loss') +
      gauge('open risk / 20%', acct.openRiskRatio === undefined ? null : acct.openRiskRatio, 0.2, 0.15, 'gauge-open-risk') +
      gauge('drawdown / 8%', acct.drawdownRatio === undefined ? null : acct.drawdownRatio, 0.08, 0.05, 'gauge-drawdown');

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
