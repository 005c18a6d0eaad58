import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startEmergencyShutdown } from '../../cli/commands/session';
import type { EmergencyShutdownInput, EmergencyShutdownResult } from '../../contracts/session';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import type { SimulatorServer } from '../../src/execution/simulator/server';
import { startAlpacaProxyStub, type AlpacaProxyStub } from '../support/alpaca-proxy-stub';
import { createAuditedWorkers, type AuditedWorkers } from '../support/audited-workers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, startReplaySimulator } from '../support/session-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['CSA', 'CSB', 'CSC', 'CSD'];
const CREDS = { keyId: 'PKSHUTDOWNCHAOS', secret: 'shutdown-chaos-secret' };
const RESTRICTED = { code: 40310000, message: 'asset CSD: trading is restricted for this account' };

/**
 * The emergency shutdown against a broker that misbehaves the ways a real one does: an asset it refuses to trade
 * (a permanent 403), closing orders that do not fill for seconds, a second shutdown running at the same time —
 * and an account it refuses to even read. The broker is the simulator behind a stub speaking Alpaca's protocol;
 * orders are counted at both.
 */
describe('chaos: emergency shutdown with a permanent broker error, slow fills and a concurrent second run', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let sim: SimulatorServer;
  let proxy: AlpacaProxyStub;
  let workers: AuditedWorkers;

  before(async () => {
    db = await createTestDatabase('tt_shutdown_chaos');
    await seedReplayDay(db, SYMBOLS, 60, 23);
    t = await connectTemporal();
    sim = await startReplaySimulator(db, SYMBOLS, { keyId: CREDS.keyId, secretKey: CREDS.secret });
    proxy = await startAlpacaProxyStub(sim.url);
    workers = await createAuditedWorkers(t, db, { brokerUrl: proxy.url, ...CREDS });
  });
  after(async () => {
    await workers?.shutdown();
    await proxy?.close();
    await sim?.close();
    await t?.close();
    await db?.drop();
  });

  const input = (account: string, extra: Partial<EmergencyShutdownInput> = {}): EmergencyShutdownInput => ({
    reason: 'chaos drill',
    requestedBy: 'chaos-operator',
    account,
    verifyAttempts: 60,
    verifyIntervalMs: 300,
    escalateAfterMs: 1_500,
    maxEscalations: 2,
    taskQueues: { io: workers.ioQueue, execution: workers.execQueue },
    ...extra,
  });

  test('when one asset is refused, fills are slow and two shutdowns run at once, then both alert with the open remainder, each position gets one working closing order at a time and the rest is flat', async () => {
    // Arrange: four positions (one short) and a session's working order, placed directly at the simulator.
    const direct = new AlpacaBroker({ keyId: CREDS.keyId, secret: CREDS.secret, baseUrl: sim.url });
    const opening = [
      ['CSA', 'buy', 100],
      ['CSB', 'sell', 50],
      ['CSC', 'buy', 30],
      ['CSD', 'buy', 20],
    ] as const;
    advance(sim); // the simulator knows a symbol once it has played a bar of it
    for (const [symbol, side, qty] of opening)
      await direct.submitOrder({
        clientOrderId: `setup-${symbol}`,
        symbol,
        side,
        qty,
        type: 'market',
        timeInForce: 'day',
      });
    advance(sim);
    advance(sim);
    assert.deepEqual(
      (await direct.getPositions()).map((p) => [p.symbol, p.qty]),
      [
        ['CSA', 100],
        ['CSB', -50],
        ['CSC', 30],
        ['CSD', 20],
      ],
    );
    const price = (await direct.getPositions())[0]!.lastPrice;
    await direct.submitOrder({
      clientOrderId: 'sess-chaos:1:CSA:0',
      symbol: 'CSA',
      side: 'buy',
      qty: 10,
      type: 'limit',
      limitPrice: Math.round(price * 50) / 100,
      timeInForce: 'day',
    });
    await direct.close();
    proxy.rules = [
      {
        method: 'POST',
        path: /^\/v2\/orders$/,
        when: (b) => b?.symbol === 'CSD',
        status: 403,
        body: RESTRICTED,
      },
    ];

    // Act: one shutdown through the CLI's start (and a second request joining it), another under its own id.
    const account = `CHAOS-${randomUUID().slice(0, 8)}`;
    const first = await startEmergencyShutdown(t.client, input(account));
    const joined = await startEmergencyShutdown(t.client, input(account));
    assert.equal(
      joined.firstExecutionRunId,
      first.firstExecutionRunId,
      'a second request joins the running one',
    );
    const other = await t.client.workflow.start('emergencyShutdownWorkflow', {
      taskQueue: workers.ioQueue,
      workflowId: `chaos-esd-other-${randomUUID()}`,
      args: [input(`${account}-other`, { requestedBy: 'second-operator' })],
    });
    // Slow fills: nothing trades until the closing market orders have been escalated to marketable limits;
    // then a bar every 200 ms.
    const escalated = () =>
      ['CSA', 'CSB', 'CSC'].every((sym) =>
        proxy.attempts.some((x) => x.symbol === sym && x.type === 'limit'),
      );
    for (const end = Date.now() + 30_000; !escalated();) {
      assert.ok(Date.now() < end, `no escalation to limit orders: ${JSON.stringify(proxy.attempts)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ticker = setInterval(() => advance(sim), 200);
    let results: EmergencyShutdownResult[];
    try {
      results = (await Promise.all([first.result(), other.result()])) as EmergencyShutdownResult[];
    } finally {
      clearInterval(ticker);
    }

    // Assert: the refused asset is reported, with what is still open, by both runs.
    for (const r of results) {
      assert.equal(r.flat, false);
      assert.deepEqual(
        r.remainingPositions.map((p) => [p.symbol, p.qty]),
        [['CSD', 20]],
      );
      assert.deepEqual(
        r.failures.map((f) => f.symbol),
        ['CSD'],
      );
      assert.match(r.error ?? '', /CSD: trading is restricted/);
      assert.ok(r.escalations >= 1, 'the closing market orders that did not fill were escalated');
    }
    const titles = workers.alerts.map((a) => a.title).sort();
    assert.deepEqual(titles, [
      'Emergency shutdown NOT flat',
      'Emergency shutdown NOT flat',
      'Emergency shutdown started',
      'Emergency shutdown started',
    ]);
    for (const a of workers.alerts.filter((x) => x.title.includes('NOT flat'))) {
      assert.equal(a.severity, 'critical');
      assert.match(a.text, /Still open: 1 position\(s\) \(CSD 20\)/);
      assert.match(a.text, /trading is restricted/);
    }
    // Flat apart from the refused asset; the session's order canceled.
    const positions = await sim.exchange.getPositions();
    assert.deepEqual(
      positions.map((p) => [p.symbol, p.qty]),
      [['CSD', 20]],
    );
    assert.deepEqual(sim.exchange.listOrders('open'), []);
    assert.equal(sim.exchange.getOrderByClientOrderId('sess-chaos:1:CSA:0')?.status, 'canceled');
    // No churn: never two working closing orders for one position; one market order, then at most one
    // marketable limit per escalation level; the refused asset tried once per run.
    assert.deepEqual(proxy.overlaps, []);
    const accepted = sim.exchange.acceptedClientOrderIds().filter((id) => id.startsWith('esd-'));
    assert.equal(new Set(accepted).size, accepted.length);
    for (const sym of ['CSA', 'CSB', 'CSC']) {
      const orders = accepted.filter((id) => id.includes(`-${sym}-`));
      const market = proxy.attempts.filter(
        (a) => a.symbol === sym && a.type === 'market' && a.status === 200,
      );
      assert.ok(orders.length >= 1 && orders.length <= 3, `${sym}: ${orders.join(', ')}`);
      assert.ok(market.length <= 1, `${sym}: never a second market order`);
    }
    // CSB and CSC had nothing open, so their first step sent market orders; those did not fill and were
    // replaced by marketable limits. (CSA waited a step for the session's order to be canceled; on a slow
    // machine its first order may already come at the first escalation level.)
    for (const sym of ['CSB', 'CSC']) {
      const types = proxy.attempts.filter((a) => a.symbol === sym && a.status === 200).map((a) => a.type);
      assert.equal(types[0], 'market', sym);
      assert.ok(
        types.slice(1).length >= 1 && types.slice(1).every((t) => t === 'limit'),
        `${sym}: ${types.join(', ')}`,
      );
    }
    assert.ok(proxy.attempts.filter((a) => a.symbol === 'CSD').length <= 2);
    assert.equal(results[0]!.closeOrders + results[1]!.closeOrders, accepted.length);
    // Audited once each: every closing order placed, the refusal, and both runs' start and result.
    const { rows } = await db.pool.query<{ action: string; subject: string }>(
      `select action, subject from audit_log where subject like 'esd-%' and action in ('order.submitted', 'order.rejected')`,
    );
    assert.deepEqual(
      rows
        .filter((r) => r.action === 'order.submitted')
        .map((r) => r.subject)
        .sort(),
      [...accepted].sort(),
    );
    assert.equal(rows.filter((r) => r.action === 'order.rejected').length, 1);
    const cancels = await db.pool.query<{ subject: string; actor: string; operator: string }>(
      `select subject, actor, operator from audit_log where action = 'order.canceled' order by subject`,
    );
    const replacedAtVenue = sim.exchange
      .listOrders('all')
      .filter((o) => o.clientOrderId.startsWith('esd-') && o.status === 'canceled')
      .map((o) => o.clientOrderId);
    assert.deepEqual(
      cancels.rows.map((r) => r.subject),
      [...replacedAtVenue, 'sess-chaos:1:CSA:0'].sort(),
      "the session's order and the escalated closing orders, each canceled once",
    );
    assert.ok(cancels.rows.every((r) => r.actor === 'workflow:emergencyShutdownWorkflow'));
    const runs = await db.pool.query<{ n: string }>(
      `select count(*) as n from audit_log where action like 'shutdown.emergency%'`,
    );
    assert.equal(Number(runs.rows[0]!.n), 4);
  });

  test('when the broker refuses to show the account (a permanent error), then the shutdown still completes, alerts NOT flat and says the positions are unknown', async () => {
    proxy.rules = [
      {
        method: 'GET',
        path: /^\/v2\/positions$/,
        status: 403,
        body: { code: 40310000, message: 'account is restricted' },
      },
    ];
    workers.alerts.length = 0;
    const handle = await startEmergencyShutdown(t.client, input(`CHAOS-${randomUUID().slice(0, 8)}`));
    const r = await handle.result();
    assert.equal(r.flat, false);
    assert.match(r.error ?? '', /broker: .*account is restricted/);
    assert.match(r.error ?? '', /positions and open orders unknown/);
    assert.deepEqual(
      workers.alerts.map((a) => a.title),
      ['Emergency shutdown started', 'Emergency shutdown NOT flat'],
    );
    assert.match(workers.alerts[1]!.text, /account is restricted/);
    proxy.rules = [];
  });
});

/** Plays the simulator's next bar (fills what can fill at it). */
function advance(sim: SimulatorServer): void {
  const next = sim.replay.barTimes().find((ts) => ts > sim.replay.watermark);
  if (next !== undefined) sim.replay.advanceTo(next);
}
