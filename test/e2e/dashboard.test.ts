import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startDashboardServer, type DashboardServer } from '../../src/monitoring/dashboard/server';
import { startMetricsServer, type MetricsServer } from '../../src/monitoring/metrics-server';
import {
  observeDecisionLatency,
  observePrediction,
  recordOrderFilled,
  recordOrderSubmitted,
  setAccountSnapshot,
  setDataFreshness,
  setMetricsClock,
  setModelConfidence,
  setPnl,
  setPredictionDrift,
  setRiskState,
  setWorkerUp,
  TradingMetrics,
} from '../../src/monitoring/metrics';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `headless Chromium not found at ${CHROMIUM}: install Debian package chromium or set CHROMIUM_PATH`;
/** Where the screenshot goes; CI can keep it as an artifact. */
const SHOT_DIR = process.env.TEST_ARTIFACTS_DIR ?? join(tmpdir(), 'trader-test-artifacts');

describe('live dashboard in headless Chromium', { skip }, () => {
  const m = new TradingMetrics();
  let metrics: MetricsServer;
  let dashboard: DashboardServer;
  let browser: Browser;
  let clock = Date.UTC(2024, 2, 4, 14, 31);

  /** A trading session's bars as the session code reports them. */
  function session(bar: number) {
    const price = 180 + Math.sin(bar / 3) * 2 + bar * 0.1;
    recordOrderSubmitted({ ticker: 'AAPL', side: 'buy' }, m);
    recordOrderFilled(
      { ticker: 'AAPL', side: 'buy', quantity: 5, fillPrice: price * 1.0002, decisionPrice: price },
      m,
    );
    observeDecisionLatency('1m', 0.05 + (bar % 3) * 0.01, 'end_to_end', m);
    observePrediction('xgb-dollar-v1', '1m', Math.tanh(Math.sin(bar)), m);
    setPnl(
      {
        ticker: 'AAPL',
        timeframe: '1m',
        model: 'xgb-dollar-v1',
        realizedDollars: bar * 12.5,
        unrealizedDollars: (price - 180) * 5 * bar,
      },
      m,
    );
    setPnl(
      {
        ticker: 'MSFT',
        timeframe: '5m',
        model: 'lstm-mtf-v2',
        realizedDollars: -bar * 4,
        unrealizedDollars: 30,
      },
      m,
    );
    setAccountSnapshot(
      {
        account: 'paper',
        equityDollars: 100_000 + bar * 40 + Math.sin(bar) * 150,
        startOfDayEquityDollars: 100_000,
        positions: [
          { ticker: 'AAPL', quantity: 5 * bar, marketValueDollars: 5 * bar * price },
          { ticker: 'MSFT', quantity: -20, marketValueDollars: -20 * 410 },
        ],
      },
      m,
    );
    setRiskState(
      {
        account: 'paper',
        state: 'ACTIVE',
        openRiskRatio: 0.06 + bar * 0.004,
        drawdownRatio: 0.012,
        dailyLossLimitRatio: 0.03,
      },
      m,
    );
    setModelConfidence('xgb-dollar-v1', 0.72, m);
    setModelConfidence('lstm-mtf-v2', 0.48, m);
    setPredictionDrift('xgb-dollar-v1', 0.08, m);
    setPredictionDrift('lstm-mtf-v2', 0.31, m);
    setDataFreshness('AAPL', '1m', clock - 30_000, m);
    setDataFreshness('MSFT', '1m', clock - 200_000, m);
  }

  before(async () => {
    // Staleness is computed at scrape time against the session's (replayed) clock.
    setMetricsClock(() => clock);
    setWorkerUp('execution', true, m);
    setWorkerUp('io', true, m);
    setWorkerUp('training', false, m);
    // The dashboard reads a worker's /metrics over HTTP, exactly as `trader dashboard` does.
    metrics = await startMetricsServer({ port: 0, registry: m.registry });
    dashboard = await startDashboardServer({
      port: 0,
      source: { kind: 'urls', urls: [`${metrics.url}/metrics`] },
      sampleIntervalMs: 60_000, // the test drives refreshes itself
      clock: () => clock,
    });
    for (let bar = 1; bar <= 12; bar++) {
      session(bar);
      clock += 60_000;
      await dashboard.service.refresh();
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  after(async () => {
    setMetricsClock(() => Date.now());
    await browser?.close();
    await dashboard?.close();
    await metrics?.close();
  });

  test('when the page loads, then every panel renders with data and a screenshot is saved', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Nothing outside the dashboard may be fetched (no CDN).
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(dashboard.url)) foreign.push(r.url());
    });
    await page.goto(`${dashboard.url}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });

    assert.ok(
      Number(await page.getAttribute('#pnl-chart', 'data-points')) >= 12,
      'P&L curve has a point per sampled bar',
    );
    const path = await page.getAttribute('#pnl-chart path.series', 'd');
    assert.ok(path && path.split('L').length >= 12, 'P&L curve path is drawn');
    assert.equal(await page.locator('#positions tr.position').count(), 2);
    assert.match((await page.textContent('#positions')) ?? '', /AAPL[\s\S]*MSFT/);
    assert.match((await page.textContent('#daily-pnl')) ?? '', /^\$[\d,]+\.\d\d$/);
    assert.equal(await page.locator('#models .model').count(), 2);
    assert.equal(await page.textContent('#risk-badge'), 'risk: ACTIVE');
    assert.ok(Number(await page.getAttribute('#gauge-open-risk', 'data-value')) > 0.06);
    assert.match(
      (await page.textContent('#workers')) ?? '',
      /execution[\s\S]*polling[\s\S]*training[\s\S]*DOWN/,
    );
    assert.match((await page.textContent('#cpu-row')) ?? '', /CPU \(\d+ cores\)\s*\d+\.\d\d%/);
    assert.match((await page.textContent('#stale')) ?? '', /MSFT 1m 260 s[\s\S]*AAPL 1m 90 s/);
    assert.deepEqual(errors, []);
    assert.deepEqual(foreign, []);

    mkdirSync(SHOT_DIR, { recursive: true });
    const file = join(SHOT_DIR, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 20_000, 'screenshot has content');
    console.log(`dashboard screenshot: ${file}`);
    await page.close();
  });

  test('when /api/dashboard is read, then it carries the P&L curve, positions and host stats', async () => {
    const r = await fetch(`${dashboard.url}/api/dashboard`);
    const s = (await r.json()) as {
      pnlCurve: unknown[];
      positions: unknown[];
      system: { cores: number; cpuHistory: number[] };
      sources: Array<{ ok: boolean }>;
    };
    assert.ok(s.pnlCurve.length >= 12);
    assert.equal(s.positions.length, 2);
    assert.ok(s.system.cores >= 1);
    assert.ok(s.sources.every((x) => x.ok));
  });
});
