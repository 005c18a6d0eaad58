import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMonitoringActivities } from '../../../activities/monitoring.activities';
import type { OperatorEvent } from '../../../contracts/monitoring';
import { SlackAlerter } from '../../../src/monitoring/alerting';
import { AuditLog } from '../../../src/monitoring/audit/audit-log';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { SlackStub, type StubMessage } from '../../support/slack-stub';

const CHANNELS = {
  critical: '#trading-critical',
  warning: '#trading-warnings',
  info: '#trading-info',
} as const;
const TOKEN = 'xoxb-operator-alerts';

/**
 * The `notify` activity workflows call (as workers/activities.ts wires it on the io queue) for the events the
 * session, the emergency shutdown and the model loop report, delivered through @slack/web-api to a local
 * chat.postMessage stub: one channel per severity, one message per problem (de-duplicated by key).
 */
describe('operator alerts through the notify activity', () => {
  let stub: SlackStub;
  let db: TestDatabase;
  let notify: (e: OperatorEvent) => Promise<{ outcome: string }>;
  before(async () => {
    stub = await new SlackStub({ token: TOKEN, channels: Object.values(CHANNELS) }).start();
    db = await createTestDatabase('tt_operator_alerts');
    const alerter = new SlackAlerter({
      token: TOKEN,
      slackApiUrl: stub.apiUrl,
      channels: CHANNELS,
      temporalUiUrl: 'http://127.0.0.1:8233',
      retries: 1,
      retryMinTimeoutMs: 10,
      log: () => undefined,
    });
    notify = createMonitoringActivities({ alerter, audit: new AuditLog(db.pool) }).notify;
  });
  after(async () => {
    await stub.stop();
    await db?.drop();
  });

  /** Sends the event and returns the outcome and the message it produced (if any). */
  async function deliver(e: OperatorEvent): Promise<{ outcome: string; message?: StubMessage }> {
    const before = stub.messages.length;
    const { outcome } = await notify(e);
    return { outcome, message: stub.messages.length > before ? stub.messages.at(-1) : undefined };
  }

  test('when the risk engine goes HALTED and REDUCING, then HALT pages #trading-critical, REDUCING warns, and each repeats once per account and day', async () => {
    const halted: OperatorEvent = {
      kind: 'risk_state',
      state: 'HALTED',
      account: 'paper',
      tradingDay: '2024-03-12',
      reason: 'Daily loss limit breached',
      workflowId: 'session-paper-2024-03-12',
      dailyPnlDollars: -3_100,
      dailyPnlRatio: -0.031,
      dailyLossLimitRatio: 0.03,
    };
    const h = await deliver(halted);
    assert.equal(h.outcome, 'sent');
    assert.equal(h.message?.channel, CHANNELS.critical);
    assert.match(h.message!.text, /Risk engine HALTED on paper/);
    assert.match(h.message!.text, /Daily P&L -3100\.00 USD \(-3\.10%\), daily loss limit 3\.00%/);
    assert.match(h.message!.text, /session liquidate session-paper-2024-03-12 --reason/);
    assert.equal((await deliver(halted)).outcome, 'deduplicated');

    const reducing = await deliver({
      kind: 'risk_state',
      state: 'REDUCING',
      account: 'paper',
      tradingDay: '2024-03-12',
      reason: 'Drawdown past the reduce threshold',
      drawdownRatio: 0.08,
    });
    assert.equal(reducing.message?.channel, CHANNELS.warning);
    assert.match(reducing.message!.text, /Risk engine REDUCING on paper[\s\S]*drawdown 8\.00%/);
    const otherAccount = await deliver({ ...halted, account: 'live', workflowId: undefined });
    assert.equal(otherAccount.outcome, 'sent');
    assert.match(otherAccount.message!.text, /shutdown --emergency --reason/);
  });

  test('when a session fails or its data goes stale, then the failure pages with the way to flatten and stale data warns with the age', async () => {
    const failed = await deliver({
      kind: 'session_failed',
      workflowId: 'session-paper-2024-03-12',
      runId: 'r1',
      account: 'paper',
      error: 'decide activity failed: state lost',
      openPositions: 3,
    });
    assert.equal(failed.message?.channel, CHANNELS.critical);
    assert.match(failed.message!.text, /state lost\. Its positions are no longer managed \(3 open\)/);
    assert.match(failed.message!.text, /shutdown --emergency/);
    assert.ok(
      failed.message!.text.includes(
        'http://127.0.0.1:8233/namespaces/default/workflows/session-paper-2024-03-12/r1',
      ),
    );

    const symbols = Array.from({ length: 12 }, (_, i) => `S${i}`);
    const stale = await deliver({
      kind: 'stale_data',
      account: 'paper',
      timeframe: '1m',
      symbols,
      newestBarAgeSeconds: 241.6,
    });
    assert.equal(stale.message?.channel, CHANNELS.warning);
    assert.match(stale.message!.text, /Newest 1m bar is 242 s old for S0, S1, .*S9 and 2 more/);
    const again = await deliver({
      kind: 'stale_data',
      account: 'paper',
      timeframe: '1m',
      symbols: ['S0'],
      newestBarAgeSeconds: 300,
    });
    assert.equal(again.outcome, 'deduplicated');
  });

  test('when an emergency shutdown starts and ends, then both page #trading-critical, a NOT-flat result names what is still open, and a retried result is sent once', async () => {
    const started = await deliver({
      kind: 'emergency_shutdown_started',
      workflowId: 'emergency-shutdown-1',
      reason: 'broker incident',
      requestedBy: 'cli:alice',
      account: null,
    });
    assert.equal(started.message?.channel, CHANNELS.critical);
    assert.match(started.message!.text, /cli:alice started an emergency shutdown[\s\S]*broker incident/);

    const notFlat: OperatorEvent = {
      kind: 'emergency_shutdown_result',
      workflowId: 'emergency-shutdown-1',
      reason: 'broker incident',
      flat: false,
      sessionsKilled: 2,
      ordersCanceled: 5,
      closeOrders: 4,
      remainingPositions: [
        { symbol: 'AAPL', qty: 10 },
        { symbol: 'MSFT', qty: -5 },
      ],
      openOrders: 1,
      error: 'closePosition AAPL: Alpaca 403: account is restricted',
    };
    const result = await deliver(notFlat);
    assert.equal(result.message?.channel, CHANNELS.critical);
    assert.match(result.message!.text, /Emergency shutdown NOT flat/);
    assert.match(
      result.message!.text,
      /account is restricted\. Still open: 2 position\(s\) \(AAPL 10, MSFT -5\), 1 order\(s\)/,
    );
    assert.equal((await deliver(notFlat)).outcome, 'deduplicated', 'a retried activity sends once');

    const second = await deliver({
      ...notFlat,
      workflowId: 'emergency-shutdown-2',
      flat: true,
      remainingPositions: [],
      openOrders: 0,
      error: undefined,
    });
    assert.equal(second.outcome, 'sent', 'a second run reports its own result');
    assert.match(second.message!.text, /Emergency shutdown complete: flat[\s\S]*flat at the broker/);
  });

  test('when the gate promotes or rejects a model, or predictions drift, then promotions inform and rejections and drift warn', async () => {
    const oos = { netPnl: 1234.5, hitRate: 0.53, ic: 0.0421 };
    const promoted = await deliver({
      kind: 'model_decision',
      name: 'spy-5m',
      modelId: 'spy-5m-r1',
      decision: 'promoted',
      reason: 'challenger beats champion (p = 0.01)',
      oos,
    });
    assert.equal(promoted.message?.channel, CHANNELS.info);
    assert.match(
      promoted.message!.text,
      /Model promoted: spy-5m[\s\S]*net P&L 1234\.50 USD, hit rate 53\.0%, IC 0\.0421/,
    );
    const rejected = await deliver({
      kind: 'model_decision',
      name: 'spy-5m',
      modelId: 'spy-5m-r2',
      decision: 'rejected',
      reason: 'no significant improvement',
    });
    assert.equal(rejected.message?.channel, CHANNELS.warning);
    assert.match(rejected.message!.text, /models show spy-5m-r2/);

    const drift: OperatorEvent = {
      kind: 'model_drift',
      model: 'spy-5m',
      psi: 0.31,
      threshold: 0.25,
      tradingDay: '2024-03-12',
    };
    const d = await deliver(drift);
    assert.equal(d.message?.channel, CHANNELS.warning);
    assert.match(d.message!.text, /PSI 0\.310 > 0\.25[\s\S]*models retrain --name spy-5m/);
    assert.equal((await deliver({ ...drift, psi: 0.4 })).outcome, 'deduplicated');
  });
});
