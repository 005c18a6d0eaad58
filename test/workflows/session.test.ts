import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  killSignal,
  liquidateUpdate,
  pauseUpdate,
  resumeUpdate,
  setRiskLimitsUpdate,
  statusQuery,
  type SessionResult,
} from '../../contracts/session';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, recordHistory, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'];

describe('TradingSession workflow on the simulator (replay mode)', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  // Credentials as a worker reads them from the environment; they must never reach a history.
  const creds = {
    keyId: `PK${randomBytes(8).toString('hex').toUpperCase()}`,
    secret: randomBytes(20).toString('base64url'),
  };

  before(async () => {
    db = await createTestDatabase('tt_session');
    await seedReplayDay(db, SYMBOLS, 40);
    t = await connectTemporal();
    process.env.APCA_API_KEY_ID = creds.keyId;
    process.env.APCA_API_SECRET_KEY = creds.secret;
  });
  after(async () => {
    delete process.env.APCA_API_KEY_ID;
    delete process.env.APCA_API_SECRET_KEY;
    await t?.close();
    await db?.drop();
  });

  test('when a stored day is replayed through Temporal, then orders are placed once each, the day ends flat and the report is stored', async () => {
    // Built from the environment exactly as a worker does it.
    const env = await startSessionEnv(t, db, SYMBOLS, {
      keyId: process.env.APCA_API_KEY_ID!,
      secret: process.env.APCA_API_SECRET_KEY!,
    });
    const { sim, workers } = env;
    const input = sessionInput(workers, SYMBOLS);
    const wfId = `test-${input.sessionId}`;
    const result = await (async () => {
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: wfId,
        args: [input],
      });
      const r = (await handle.result()) as SessionResult;
      await recordHistory(handle, 'trading-session-replay');
      const desc = await handle.describe();
      assert.deepEqual(desc.searchAttributes.SessionDate, ['2024-03-12']);
      assert.deepEqual(desc.searchAttributes.TradingMode, ['replay']);
      return r;
    })().finally(() => env.close());
    assert.ok(result.ordersPlaced > 0, 'the strategy traded');
    const accepted = sim.exchange.acceptedClientOrderIds().filter((c) => c.startsWith(`${input.sessionId}:`));
    assert.equal(accepted.length, result.ordersPlaced, 'every intended order placed exactly once');
    assert.equal(new Set(accepted).size, accepted.length, 'no duplicate client order id at the simulator');
    assert.deepEqual(result.finalPositions, [], 'end-of-day flatten left no position');
    const { rows } = await db.pool.query<{ orders_placed: number; daily_pnl: number }>(
      'select orders_placed, daily_pnl from session_reports where session_id = $1',
      [input.sessionId],
    );
    assert.equal(rows[0]?.orders_placed, result.ordersPlaced);
    assert.equal(rows[0]?.daily_pnl, result.dailyPnl);

    // No credential value in any history of the run.
    const history = historyToJSON(await t.client.workflow.getHandle(wfId).fetchHistory());
    assert.ok(history.length > 1000);
    assert.ok(!history.includes(creds.keyId), 'key id leaked into the history');
    assert.ok(!history.includes(creds.secret), 'secret leaked into the history');
  });

  test('when an operator pauses, changes limits, resumes, liquidates and kills, then validators refuse bad requests and the session obeys', async () => {
    const env = await startSessionEnv(t, db, SYMBOLS, creds);
    const input = sessionInput(env.workers, SYMBOLS, { replayBarDelayMs: 300 });
    const wfId = `test-${input.sessionId}`;
    try {
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: wfId,
        args: [input],
      });
      const paused = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'operator check' }] });
      assert.equal(paused.state.paused, true);
      await assert.rejects(
        handle.executeUpdate(pauseUpdate, { args: [{ reason: 'again' }] }),
        WorkflowUpdateFailedError,
      );
      await assert.rejects(
        handle.executeUpdate(setRiskLimitsUpdate, { args: [{ maxPositionFraction: 7 }] }),
        (e: unknown) =>
          e instanceof WorkflowUpdateFailedError &&
          /maxPositionFraction/.test(String((e as Error & { cause?: Error }).cause?.message)),
      );
      const limited = await handle.executeUpdate(setRiskLimitsUpdate, {
        args: [{ maxPositionFraction: 0.045 }],
      });
      assert.equal(limited.state.limits.maxPositionFraction, 0.045);
      const ordersWhilePaused = (await handle.query(statusQuery)).state.ordersPlaced;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(
        (await handle.query(statusQuery)).state.ordersPlaced,
        ordersWhilePaused,
        'no orders while paused',
      );
      await handle.executeUpdate(resumeUpdate, { args: [{ reason: 'checked' }] });
      await assert.rejects(
        handle.executeUpdate(resumeUpdate, { args: [{ reason: 'twice' }] }),
        WorkflowUpdateFailedError,
      );
      await waitUntil(
        async () => (await handle.query(statusQuery)).state.account.positions.length > 0,
        20_000,
      );
      await handle.executeUpdate(liquidateUpdate, { args: [{ reason: 'flatten now' }] });
      await waitUntil(
        async () => (await handle.query(statusQuery)).state.account.positions.length === 0,
        20_000,
      );
      await handle.signal(killSignal, { reason: 'end of test' });
      const r = (await handle.result()) as SessionResult;
      assert.equal(r.killed, true);
      assert.deepEqual(r.finalPositions, []);
      const status = await handle.query(statusQuery);
      assert.deepEqual(
        status.state.controls.map((c) => c.action),
        ['pause', 'setRiskLimits', 'resume', 'liquidate', 'kill'],
      );
      await recordHistory(handle, 'trading-session-controls');
    } finally {
      await env.close();
    }
    const { rows } = await db.pool.query<{ action: string }>(
      `select action from audit_log where subject = $1 order by id`,
      [input.sessionId],
    );
    assert.deepEqual(
      rows.map((r) => r.action),
      [
        'session.started',
        'session.paused',
        'session.limits_set',
        'session.resumed',
        'session.liquidated',
        'session.killed',
      ],
    );
  });
});

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
