import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import {
  killSignal,
  pauseUpdate,
  setRiskLimitsUpdate,
  statusQuery,
  type SessionResult,
} from '../../contracts/session';
import { traderCliIdentity } from '../../src/monitoring/audit/identity';
import { createAuditedWorkers } from '../support/audited-workers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startReplaySimulator } from '../support/session-harness';
import { connectTemporal, TEST_TEMPORAL_ADDRESS, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['AUA', 'AUB', 'AUC'];
const CREDS = { keyId: 'PKAUDITSESSION', secret: 'audit-session-secret' };
const TEMPORAL_CLI = process.env.TEMPORAL_CLI;

/**
 * Issue #16 acceptance 3: after a replayed session the audit log holds one row per order, fill, cancel and
 * control, each with the operator behind it — controls sent from the trader CLI (its user), with an explicit
 * operator, from the `temporal` CLI and from a Web UI–like client (both only known by the identity Temporal
 * recorded).
 */
describe('audit trail of a replayed session', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;

  before(async () => {
    db = await createTestDatabase('tt_audit_session');
    await seedReplayDay(db, SYMBOLS, 45, 29);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when a session trades and operators steer it from four places, then audit rows = orders + fills + cancels + controls, each once, with operator names', async (ctx) => {
    if (!TEMPORAL_CLI) return ctx.skip('TEMPORAL_CLI is not set (the test runner exports it)');
    const sim = await startReplaySimulator(db, SYMBOLS, { keyId: CREDS.keyId, secretKey: CREDS.secret });
    const workers = await createAuditedWorkers(t, db, { brokerUrl: sim.url, replayUrl: sim.url, ...CREDS });
    // Every fill at the venue, partial ones included, as its event stream reports them.
    const fills: Array<{ clientOrderId: string; filledQty: number; final: boolean }> = [];
    sim.exchange.onOrderEvent((e) => {
      if (e.type === 'OrderPartiallyFilled' || e.type === 'OrderFilled')
        fills.push({
          clientOrderId: e.clientOrderId,
          filledQty: e.order.filledQty,
          final: e.type === 'OrderFilled',
        });
    });
    // The clients a person would use: the trader CLI's (its identity names the user) and a Web UI's.
    const cli = new Client({ connection: t.connection, identity: traderCliIdentity('alice', hostname()) });
    const ui = new Client({ connection: t.connection, identity: 'ui:carol@example.com' });
    const input = sessionInput(workers, SYMBOLS, {
      replayBarDelayMs: 150,
      strategy: { name: 'sma-trend', fast: 2, slow: 4, weight: 0.04 },
    });
    const workflowId = `audit-${input.sessionId}`;
    let result: SessionResult;
    try {
      const handle = await cli.workflow.start('tradingSessionWorkflow', {
        taskQueue: workers.ioQueue,
        workflowId,
        args: [input],
      });
      const barAtLeast = (n: number) =>
        waitUntil(async () => (await handle.query(statusQuery)).state.nextBar >= n, 60_000);
      await barAtLeast(8);
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'news pending', operator: 'alice' }] });
      await handle.executeUpdate(setRiskLimitsUpdate, {
        args: [{ maxOrdersPerCycle: 50 }, { operator: 'bob' }],
      });
      // The `temporal` CLI sends no operator: its identity (temporal-cli:<user>@<host>) is what is known.
      await promisify(execFile)(TEMPORAL_CLI, [
        'workflow',
        'update',
        'execute',
        '--address',
        TEST_TEMPORAL_ADDRESS,
        '--workflow-id',
        workflowId,
        '--name',
        'resume',
        '--input',
        '{"reason":"news out"}',
        '--identity',
        'temporal-cli:dave@ops-host',
      ]);
      await barAtLeast(30);
      await ui.workflow.getHandle(workflowId).signal(killSignal, { reason: 'end of drill' });
      result = (await handle.result()) as SessionResult;
    } finally {
      await workers.shutdown();
      await sim.close();
    }
    assert.equal(result.killed, true);

    // What happened at the venue.
    const orders = sim.exchange
      .listOrders('all')
      .filter((o) => o.clientOrderId.startsWith(`${input.sessionId}:`));
    const placed = sim.exchange.acceptedClientOrderIds().filter((id) => id.startsWith(`${input.sessionId}:`));
    const refused = [
      ...new Set(
        sim.exchange.placementLog
          .filter((p) => !p.accepted && p.clientOrderId.startsWith(`${input.sessionId}:`))
          .map((p) => p.clientOrderId),
      ),
    ].filter((id) => !placed.includes(id));
    const filled = orders.filter((o) => o.status === 'filled');
    const ours = fills.filter((f) => f.clientOrderId.startsWith(`${input.sessionId}:`));
    const partialFills = ours.filter((f) => !f.final).map((f) => `${f.clientOrderId}:${f.filledQty}`);
    const canceled = orders.filter((o) => o.status === 'canceled' || o.status === 'expired');
    assert.ok(placed.length >= 10, `the session traded (${placed.length} orders)`);
    assert.equal(ours.filter((f) => f.final).length, filled.length);

    // What the audit log holds for the session.
    const { rows } = await db.pool.query<{
      action: string;
      actor: string;
      operator: string | null;
      subject: string;
      idempotency_key: string | null;
    }>(
      `select action, actor, operator, subject, idempotency_key from audit_log where workflow_id = $1 order by id`,
      [workflowId],
    );
    const of = (action: string) => rows.filter((r) => r.action === action);
    assert.deepEqual(
      of('order.submitted')
        .map((r) => r.subject)
        .sort(),
      [...placed].sort(),
    );
    assert.deepEqual(
      of('order.filled')
        .map((r) => r.subject)
        .sort(),
      filled.map((o) => o.clientOrderId).sort(),
    );
    assert.deepEqual(
      of('order.partially_filled')
        .map((r) => r.idempotency_key!.replace('order.partially_filled:', ''))
        .sort(),
      partialFills.sort(),
      'one row per partial fill the venue reported',
    );
    assert.deepEqual(
      of('order.canceled')
        .map((r) => r.subject)
        .sort(),
      canceled.map((o) => o.clientOrderId).sort(),
    );
    assert.deepEqual(
      of('order.rejected')
        .map((r) => r.subject)
        .sort(),
      refused.sort(),
    );
    const controls = rows.filter((r) => r.action.startsWith('session.'));
    assert.equal(
      rows.length,
      placed.length + refused.length + ours.length + canceled.length + controls.length,
      'rows = orders + fills (partial and final) + cancels + controls',
    );
    const keys = rows.map((r) => r.idempotency_key);
    assert.ok(keys.every(Boolean), 'every row has an idempotency key');
    assert.equal(new Set(keys).size, keys.length, 'each event once');
    assert.deepEqual(
      controls.map((r) => r.action),
      ['session.started', 'session.paused', 'session.limits_set', 'session.resumed', 'session.killed'],
    );
    assert.deepEqual(
      controls.map((r) => r.actor),
      ['cli:alice', 'cli:alice', 'cli:bob', controls[3]!.actor, 'temporal:ui:carol@example.com'],
    );
    // What the `temporal` CLI's update carries as its sender (v1.5 sends its process identity, not --identity).
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    const resumeSender = history.events
      ?.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest)
      .find((r) => r?.input?.name === 'resume')?.meta?.identity;
    assert.ok(resumeSender);
    assert.equal(controls[3]!.actor, `temporal:${resumeSender}`, 'the identity Temporal recorded');
    assert.deepEqual(
      controls.map((r) => r.operator),
      controls.map((r) => r.actor),
    );
    for (const r of rows.filter((x) => x.action.startsWith('order.'))) {
      assert.equal(
        r.operator,
        'cli:alice',
        `${r.action} ${r.subject}: for the operator who started the session`,
      );
      assert.equal(r.actor, 'workflow:tradingSessionWorkflow');
    }
  });
});

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
