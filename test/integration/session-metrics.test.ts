import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SessionResult } from '../../contracts/session';
import { metricsRegistry } from '../../src/monitoring/metrics';
import { startMetricsServer, type MetricsServer } from '../../src/monitoring/metrics-server';
import { parsePrometheusText, sumOf } from '../../src/monitoring/prom-text';
import { prometheusSessionMetrics } from '../../src/monitoring/session-metrics';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'];

/**
 * Issue 8, acceptance 1, on the real path: a replayed tradingSessionWorkflow whose activities are wired with
 * the Prometheus session metrics (as workers/activities.ts wires them); /metrics is scraped over HTTP while the
 * session runs and after it ends, and the P&L, order and latency series move between the scrapes.
 */
describe('metrics during a replayed session', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let server: MetricsServer;
  before(async () => {
    db = await createTestDatabase('tt_session_metrics');
    await seedReplayDay(db, SYMBOLS, 40);
    t = await connectTemporal();
    server = await startMetricsServer({ port: 0 });
  });
  after(async () => {
    await server?.close();
    await t?.close();
    await db?.drop();
  });

  const scrape = async () => parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
  const account = { account: 'simulator' };

  test('when a session replays through Temporal, then successive scrapes show P&L, orders and latency moving', async () => {
    const env = await startSessionEnv(
      t,
      db,
      SYMBOLS,
      { keyId: 'SIM', secret: 'SIM' },
      undefined,
      prometheusSessionMetrics('simulator'),
    );
    try {
      const input = sessionInput(env.workers, SYMBOLS);
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `metrics-${input.sessionId}`,
        args: [input],
      });
      // First scrape: mid-session, once some decisions have been made.
      let first = await scrape();
      for (let i = 0; i < 200 && sumOf(first, 'trader_decision_latency_seconds_count') < 3; i++) {
        await new Promise((r) => setTimeout(r, 50));
        first = await scrape();
      }
      const result = (await handle.result()) as SessionResult;
      const second = await scrape();

      assert.ok(result.ordersPlaced > 0, 'the session traded');
      const decisions = [first, second].map((s) => sumOf(s, 'trader_decision_latency_seconds_count'));
      assert.ok(
        decisions[0]! >= 3 && decisions[1]! > decisions[0]!,
        `decision latency observations moved: ${decisions}`,
      );
      const orders = [first, second].map((s) => sumOf(s, 'trader_orders_submitted_total'));
      assert.ok(orders[1]! > orders[0]!, `orders moved: ${orders}`);
      assert.equal(
        orders[1]! - orders[0]! <= result.ordersPlaced,
        true,
        'never more submissions than orders placed',
      );
      const equity = [first, second].map((s) => sumOf(s, 'trader_equity_dollars', account));
      const pnl = [first, second].map((s) => sumOf(s, 'trader_daily_pnl_dollars', account));
      assert.ok(equity[1]! > 0, 'equity reported');
      assert.notDeepEqual(
        [equity[0], pnl[0]],
        [equity[1], pnl[1]],
        `P&L moved: equity ${equity}, daily P&L ${pnl}`,
      );
      assert.ok(sumOf(second, 'trader_data_last_bar_timestamp_seconds') > 0, 'data freshness reported');
      // the risk engine's state each cycle, what decides the trades, fills against the decision price
      assert.equal(sumOf(second, 'trader_risk_state', { ...account, state: 'ACTIVE' }), 1);
      assert.equal(sumOf(second, 'trader_risk_daily_loss_limit_ratio', account), 0.03);
      assert.equal(
        sumOf(second, 'trader_session_model_info', { ...account, model: 'indicator-fallback' }),
        1,
      );
      const fills = sumOf(second, 'trader_orders_filled_total');
      assert.ok(fills > 0, 'fills counted');
      assert.equal(sumOf(second, 'trader_order_slippage_bps_count'), fills, 'each fill has its slippage');
      // realised + unrealised add up to the day's P&L (the replayed account starts flat)
      const realised = sumOf(second, 'trader_pnl_realized_dollars');
      const unrealised = sumOf(second, 'trader_pnl_unrealized_dollars');
      const daily = sumOf(second, 'trader_daily_pnl_dollars', account);
      assert.ok(daily !== 0, 'the day moved the account');
      assert.ok(
        Math.abs(realised + unrealised - daily) < 0.05,
        `realised ${realised} + unrealised ${unrealised} = daily P&L ${daily}`,
      );
      assert.ok(metricsRegistry.getSingleMetric('trader_orders_submitted_total'));
    } finally {
      await env.close();
    }
  });
});
