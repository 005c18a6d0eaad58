import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startEmergencyShutdown } from '../../cli/commands/session';
import {
  emergencyShutdownWorkflowId,
  statusQuery,
  type EmergencyShutdownInput,
  type SessionResult,
} from '../../contracts/session';
import { createAuditedWorkers } from '../support/audited-workers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startReplaySimulator } from '../support/session-harness';
import { connectTemporal, recordHistory, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['EMA', 'EMB', 'EMC', 'EMD'];
const CREDS = { keyId: 'PKEMERGENCY', secret: 'emergency-secret' };

describe('EmergencyShutdown workflow', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;

  before(async () => {
    db = await createTestDatabase('tt_emergency');
    await seedReplayDay(db, SYMBOLS, 60, 17);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when an emergency shutdown runs during a session, then the session is killed, its orders canceled, each position closed by one order and verified flat, alerted and audited; a second run is harmless', async () => {
    const sim = await startReplaySimulator(db, SYMBOLS, { keyId: CREDS.keyId, secretKey: CREDS.secret });
    const workers = await createAuditedWorkers(t, db, { brokerUrl: sim.url, replayUrl: sim.url, ...CREDS });
    // A unique account so the search finds this test's session and no one else's on a shared server.
    const account = `EMERG-${randomUUID().slice(0, 8)}`;
    let ticker: NodeJS.Timeout | undefined;
    try {
      const input = sessionInput(workers, SYMBOLS, { account, replayBarDelayMs: 300 });
      const session = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: workers.ioQueue,
        workflowId: `test-emerg-${input.sessionId}`,
        args: [input],
      });
      await waitUntil(
        async () => (await session.query(statusQuery)).state.account.positions.length > 0,
        40_000,
      );
      // Wait for the visibility store to index the session's search attributes.
      await waitUntil(async () => {
        for await (const _ of t.client.workflow.list({
          query: `Account = '${account}' AND ExecutionStatus = 'Running'`,
        }))
          return true;
        return false;
      }, 20_000);
      const shutdownInput: EmergencyShutdownInput = {
        reason: 'test drill',
        requestedBy: 'test-operator',
        account,
        verifyAttempts: 40,
        verifyIntervalMs: 300,
        escalateAfterMs: 5_000,
        taskQueues: { io: workers.ioQueue, execution: workers.execQueue },
      };
      // The market keeps trading after the kill, so the closing orders can fill.
      ticker = setInterval(() => {
        const next = sim.replay.barTimes().find((ts) => ts > sim.replay.watermark);
        if (next !== undefined) sim.replay.advanceTo(next);
      }, 150);
      const firstHandle = await startEmergencyShutdown(t.client, shutdownInput);
      assert.equal(firstHandle.workflowId, emergencyShutdownWorkflowId(account));
      const first = await firstHandle.result();
      assert.deepEqual(first.sessionsKilled, [`test-emerg-${input.sessionId}`]);
      assert.equal(first.flat, true);
      assert.equal(first.error, null);
      assert.ok(first.closeOrders > 0);
      const sessionResult = (await session.result()) as SessionResult;
      assert.equal(sessionResult.killed, true);
      assert.deepEqual(await sim.exchange.getPositions(), []);
      assert.deepEqual(sim.exchange.listOrders('open'), []);
      // No churn: every closing order placed at the venue is one this run counted, at most one per position and
      // escalation level.
      const closing = sim.exchange.acceptedClientOrderIds().filter((id) => id.startsWith('esd-'));
      assert.equal(closing.length, first.closeOrders);
      assert.equal(new Set(closing).size, closing.length);
      for (const sym of SYMBOLS)
        assert.ok(closing.filter((id) => id.includes(`-${sym}-`)).length <= 1 + first.escalations);

      const secondHandle = await startEmergencyShutdown(t.client, shutdownInput);
      assert.notEqual(secondHandle.firstExecutionRunId, firstHandle.firstExecutionRunId);
      const second = await secondHandle.result();
      assert.deepEqual(second, {
        sessionsKilled: [],
        algosStopped: [],
        remainingPositions: [],
        openOrders: 0,
        ordersCanceled: 0,
        closeOrders: 0,
        escalations: 0,
        failures: [],
        flat: true,
        error: null,
      });
      await recordHistory(secondHandle, 'emergency-shutdown-idempotent');
      assert.deepEqual(
        workers.alerts.map((a) => a.title),
        [
          'Emergency shutdown started',
          'Emergency shutdown complete: flat',
          'Emergency shutdown started',
          'Emergency shutdown complete: flat',
        ],
      );
    } finally {
      if (ticker) clearInterval(ticker);
      await workers.shutdown();
      await sim.close();
    }
    const { rows } = await db.pool.query<{ action: string; actor: string; operator: string }>(
      `select action, actor, operator from audit_log where action like 'shutdown.%' order by id`,
    );
    assert.deepEqual(
      rows.map((r) => [r.action, r.actor, r.operator]),
      [
        ['shutdown.emergency', 'cli:test-operator', 'cli:test-operator'],
        ['shutdown.emergency_completed', 'workflow:emergencyShutdownWorkflow', 'cli:test-operator'],
        ['shutdown.emergency', 'cli:test-operator', 'cli:test-operator'],
        ['shutdown.emergency_completed', 'workflow:emergencyShutdownWorkflow', 'cli:test-operator'],
      ],
    );
    const kill = await db.pool.query<{ actor: string }>(
      `select actor from audit_log where action = 'session.killed'`,
    );
    assert.deepEqual(
      kill.rows.map((r) => r.actor),
      ['cli:test-operator'],
      'the session records who killed it',
    );
    const closes = await db.pool.query<{ actor: string; operator: string }>(
      `select distinct actor, operator from audit_log where action = 'order.submitted' and subject like 'esd-%'`,
    );
    assert.deepEqual(closes.rows, [
      { actor: 'workflow:emergencyShutdownWorkflow', operator: 'cli:test-operator' },
    ]);
  });
});

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
