import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import {
  observeDecisionLatency,
  recordOrderFilled,
  recordOrderSubmitted,
  setAccountSnapshot,
  setPnl,
  tradingMetrics,
} from '../../src/monitoring/metrics';
import { startMetricsServer, type MetricsServer } from '../../src/monitoring/metrics-server';
import { parsePrometheusText, sumOf, type Sample } from '../support/prom-text';
import type { MeteredSessionActivities } from '../support/workflows/metered-session.workflow';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** What the execution/session activities report per bar, through the same helpers. */
const activities: MeteredSessionActivities = {
  async processBar({ bar }) {
    const price = 100 + bar;
    observeDecisionLatency('1m', 0.02 + bar * 0.005);
    recordOrderSubmitted({ ticker: 'SPY', side: 'buy' });
    recordOrderFilled({
      ticker: 'SPY',
      side: 'buy',
      quantity: 1,
      fillPrice: price + 0.01,
      decisionPrice: price,
    });
    setPnl({
      ticker: 'SPY',
      timeframe: '1m',
      model: 'xgb-dollar-v1',
      realizedDollars: 0,
      unrealizedDollars: (bar * (bar + 1)) / 2,
    });
    setAccountSnapshot({
      account: 'paper',
      equityDollars: 10_000 + (bar * (bar + 1)) / 2,
      startOfDayEquityDollars: 10_000,
      positions: [{ ticker: 'SPY', quantity: bar + 1, marketValueDollars: (bar + 1) * price }],
    });
    return Promise.resolve();
  },
};

// Not test/support/temporal: it installs a Runtime without metrics at import, and the Runtime is process-wide.
const ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233';

describe('/metrics of a worker running a session on a real Temporal server', () => {
  let t: {
    client: Client;
    connection: Connection;
    nativeConnection: NativeConnection;
    close(): Promise<void>;
  };
  let server: MetricsServer;
  before(async () => {
    // The Temporal Runtime must be installed, with its Prometheus exporter, before the first connection.
    const runtimePort = await freePort();
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${runtimePort}` } } },
      shutdownSignals: [],
    });
    const connection = await Connection.connect({ address: ADDRESS });
    const nativeConnection = await NativeConnection.connect({ address: ADDRESS });
    t = {
      client: new Client({ connection }),
      connection,
      nativeConnection,
      close: async () => {
        await connection.close();
        await nativeConnection.close();
      },
    };
    tradingMetrics.reset();
    server = await startMetricsServer({
      port: 0,
      temporalMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`,
    });
  });
  after(async () => {
    await server.close();
    await t.close();
  });

  const scrape = async (): Promise<Sample[]> =>
    parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());

  test('when bars are processed between two scrapes, then P&L, orders and latency move and Temporal SDK metrics share the scrape', async () => {
    const taskQueue = `metered-session-${randomUUID()}`;
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../support/workflows/metered-session.workflow'),
      activities,
    });
    const [first, second] = await worker.runUntil(async () => {
      const handle = await t.client.workflow.start('meteredSessionWorkflow', {
        taskQueue,
        workflowId: `metered-${taskQueue}`,
        args: [{ first: 2, total: 5 }],
      });
      // Wait (on workflow state, not wall time) until the first bars are done.
      for (let i = 0; i < 300 && (await handle.query<number>('barsDone')) < 2; i++)
        await new Promise((r) => setTimeout(r, 100));
      const a = await scrape();
      await handle.signal('continue');
      assert.equal(await handle.result(), 5);
      return [a, await scrape()];
    });

    assert.equal(sumOf(first, 'trader_orders_submitted_total'), 2);
    assert.equal(sumOf(second, 'trader_orders_submitted_total'), 5);
    assert.equal(sumOf(first, 'trader_decision_latency_seconds_count'), 2);
    assert.equal(sumOf(second, 'trader_decision_latency_seconds_count'), 5);
    assert.equal(sumOf(first, 'trader_pnl_unrealized_dollars'), 1);
    assert.equal(sumOf(second, 'trader_pnl_unrealized_dollars'), 10);
    assert.equal(sumOf(second, 'trader_daily_pnl_dollars'), 10);

    // The Temporal SDK runtime's own series come through the same endpoint.
    const q = { task_queue: taskQueue };
    assert.ok(
      sumOf(second, 'temporal_activity_execution_latency_count', { ...q, activity_type: 'processBar' }) >= 5,
    );
    assert.equal(
      sumOf(second, 'temporal_workflow_completed', { ...q, workflow_type: 'meteredSessionWorkflow' }),
      1,
    );
    assert.ok(
      sumOf(second, 'temporal_workflow_task_execution_latency_count', q) >
        sumOf(first, 'temporal_workflow_task_execution_latency_count', q),
    );
  });
});
