import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  observeDecisionLatency,
  observePrediction,
  recordOrderFilled,
  recordOrderSubmitted,
  setAccountSnapshot,
  setDataFreshness,
  setMetricsClock,
  setPnl,
  setRiskState,
  tradingMetrics,
} from '../../src/monitoring/metrics';
import { startMetricsServer, type MetricsServer } from '../../src/monitoring/metrics-server';
import { parsePrometheusText, sumOf } from '../support/prom-text';

/** What the Temporal SDK runtime's Prometheus exporter serves (names as the TypeScript SDK exports them). */
const TEMPORAL_TEXT = [
  '# HELP temporal_workflow_completed Count of successfully completed workflows',
  '# TYPE temporal_workflow_completed counter',
  'temporal_workflow_completed{namespace="default",task_queue="execution",workflow_type="tradingSession"} 3',
  '',
].join('\n');

async function scrape(url: string) {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
  return parsePrometheusText(await r.text());
}

describe('/metrics during a replayed session', () => {
  let server: MetricsServer;
  let temporal: Server;
  let healthy = true;
  // The replay clock: bar closes of a stored day, not wall time.
  let now = Date.UTC(2024, 2, 4, 14, 31);
  before(async () => {
    temporal = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end(TEMPORAL_TEXT),
    );
    await new Promise<void>((r) => temporal.listen(0, '127.0.0.1', () => r()));
    tradingMetrics.reset();
    setMetricsClock(() => now);
    server = await startMetricsServer({
      port: 0,
      temporalMetricsUrl: `http://127.0.0.1:${(temporal.address() as AddressInfo).port}/metrics`,
      checks: { database: () => healthy, temporal: async () => Promise.resolve(true) },
    });
  });
  after(async () => {
    setMetricsClock(() => Date.now());
    await server.close();
    await new Promise<void>((r) => temporal.close(() => r()));
  });

  /** One bar cycle, calling the helpers exactly where the session's activities call them. */
  function replayBar(i: number) {
    const barClose = Date.UTC(2024, 2, 4, 14, 31 + i);
    now = barClose + 2_000;
    const price = 180 + i * 0.25;
    for (const symbol of ['AAPL', 'MSFT']) setDataFreshness(symbol, '1m', barClose);
    observePrediction('xgb-dollar-v1', '1m', Math.tanh(0.3 * i));
    observeDecisionLatency('1m', 0.04 + 0.01 * i);
    recordOrderSubmitted({ ticker: 'AAPL', side: 'buy', orderType: 'market' });
    recordOrderFilled({
      ticker: 'AAPL',
      side: 'buy',
      quantity: 10,
      fillPrice: price + 0.02,
      decisionPrice: price,
    });
    const qty = 10 * (i + 1);
    setPnl({
      ticker: 'AAPL',
      timeframe: '1m',
      model: 'xgb-dollar-v1',
      realizedDollars: 0,
      unrealizedDollars: qty * 0.25 * i,
    });
    setAccountSnapshot({
      account: 'paper',
      equityDollars: 100_000 + qty * 0.25 * i,
      startOfDayEquityDollars: 100_000,
      positions: [{ ticker: 'AAPL', quantity: qty, marketValueDollars: qty * price }],
    });
    setRiskState({ account: 'paper', state: 'ACTIVE', dailyLossLimitRatio: 0.03 });
  }

  test('when bars replay between two scrapes, then P&L, orders and latency series move', async () => {
    replayBar(0);
    replayBar(1);
    const first = await scrape(server.url);
    for (let i = 2; i < 6; i++) replayBar(i);
    const second = await scrape(server.url);

    const orders = (s: typeof first) => sumOf(s, 'trader_orders_submitted_total', { ticker: 'AAPL' });
    assert.equal(orders(first), 2);
    assert.equal(orders(second), 6);
    assert.equal(sumOf(second, 'trader_orders_filled_total'), 6);

    const latencyCount = (s: typeof first) =>
      sumOf(s, 'trader_decision_latency_seconds_count', { timeframe: '1m', stage: 'end_to_end' });
    assert.equal(latencyCount(first), 2);
    assert.equal(latencyCount(second), 6);
    assert.ok(
      sumOf(second, 'trader_decision_latency_seconds_sum') >
        sumOf(first, 'trader_decision_latency_seconds_sum'),
    );

    const pnl = (s: typeof first) =>
      sumOf(s, 'trader_pnl_unrealized_dollars', { ticker: 'AAPL', timeframe: '1m', model: 'xgb-dollar-v1' });
    assert.equal(pnl(first), 5);
    assert.equal(pnl(second), 60 * 0.25 * 5);
    assert.notEqual(sumOf(first, 'trader_daily_pnl_dollars'), sumOf(second, 'trader_daily_pnl_dollars'));
    assert.ok(sumOf(second, 'trader_order_slippage_bps_count') === 6);
    assert.equal(sumOf(second, 'trader_data_staleness_seconds', { symbol: 'AAPL', timeframe: '1m' }), 2);
    assert.equal(sumOf(second, 'trader_risk_state', { state: 'ACTIVE' }), 1);
  });

  test('when a Temporal metrics URL is configured, then its series are merged into the same scrape', async () => {
    const samples = await scrape(server.url);
    assert.equal(sumOf(samples, 'temporal_workflow_completed', { workflow_type: 'tradingSession' }), 3);
  });

  test('when a dependency check fails, then /healthz answers 503 naming it while /livez stays 200', async () => {
    let r = await fetch(`${server.url}/healthz`);
    assert.equal(r.status, 200);
    healthy = false;
    r = await fetch(`${server.url}/healthz`);
    assert.equal(r.status, 503);
    const body = (await r.json()) as {
      ready: boolean;
      checks: Record<string, { ok: boolean; error?: string }>;
    };
    assert.equal(body.ready, false);
    assert.equal(body.checks.database?.ok, false);
    assert.equal(body.checks.temporal?.ok, true);
    assert.equal((await fetch(`${server.url}/livez`)).status, 200);
    healthy = true;
  });
});
