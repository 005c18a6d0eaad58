import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { statusQuery, type EmergencyShutdownResult, type SessionResult } from '../../contracts/session';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, recordHistory, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['EMA', 'EMB', 'EMC', 'EMD'];

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

  test('when an emergency shutdown runs during a session, then the session is killed, orders canceled, positions flattened and verified flat; a second run is harmless', async () => {
    const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKEMERGENCY', secret: 'emergency-secret' });
    // A unique account so the search finds this test's session and no one else's on a shared server.
    const account = `EMERG-${randomUUID().slice(0, 8)}`;
    let ticker: NodeJS.Timeout | undefined;
    try {
      const input = sessionInput(env.workers, SYMBOLS, { account, replayBarDelayMs: 300 });
      const session = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: env.workers.ioQueue,
        workflowId: `test-emerg-${input.sessionId}`,
        args: [input],
      });
      await waitUntil(async () => (await session.query(statusQuery)).state.account.positions.length > 0, 40_000);
      // Wait for the visibility store to index the session's search attributes.
      await waitUntil(async () => {
        for await (const _ of t.client.workflow.list({
          query: `Account = '${account}' AND ExecutionStatus = 'Running'`,
        }))
          return true;
        return false;
      }, 20_000);
      const run = (id: string) =>
        t.client.workflow.execute('emergencyShutdownWorkflow', {
          taskQueue: env.workers.ioQueue,
          workflowId: id,
          args: [
            {
              reason: 'test drill',
              requestedBy: 'test',
              account,
              verifyAttempts: 40,
              verifyIntervalMs: 300,
              taskQueues: { io: env.workers.ioQueue, execution: env.workers.execQueue },
            },
          ],
        }) as Promise<EmergencyShutdownResult>;
      // The market keeps trading after the kill, so the closing orders can fill.
      ticker = setInterval(() => {
        const next = env.sim.replay.barTimes().find((ts) => ts > env.sim.replay.watermark);
        if (next !== undefined) env.sim.replay.advanceTo(next);
      }, 150);
      const first = await run(`emergency-${randomUUID()}`);
      assert.deepEqual(first.sessionsKilled, [`test-emerg-${input.sessionId}`]);
      assert.equal(first.flat, true);
      assert.ok(first.closeOrders > 0);
      const sessionResult = (await session.result()) as SessionResult;
      assert.equal(sessionResult.killed, true);
      assert.deepEqual(await env.sim.exchange.getPositions(), []);
      assert.deepEqual(env.sim.exchange.listOrders('open'), []);

      const secondId = `emergency-${randomUUID()}`;
      const second = await run(secondId);
      assert.deepEqual(second, {
        sessionsKilled: [],
        algosStopped: [],
        remainingPositions: [],
        ordersCanceled: 0,
        closeOrders: 0,
        flat: true,
      });
      await recordHistory(t.client.workflow.getHandle(secondId), 'emergency-shutdown-idempotent');
      assert.ok(env.workers.alerts.length >= 2 && env.workers.alerts.every((a) => a.severity === 'info'));
      const { rows } = await db.pool.query<{ action: string }>(
        `select action from audit_log where actor = 'emergency-shutdown' order by id`,
      );
      assert.deepEqual(
        rows.map((r) => r.action),
        [
          'emergency_shutdown_started',
          'emergency_shutdown_completed',
          'emergency_shutdown_started',
          'emergency_shutdown_completed',
        ],
      );
    } finally {
      if (ticker) clearInterval(ticker);
      await env.close();
    }
  });
});

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
