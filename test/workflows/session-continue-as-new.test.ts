import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setRiskLimitsUpdate, statusQuery, type SessionResult } from '../../contracts/session';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, recordHistory, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'];
const CREDS = { keyId: 'PKCONTINUEASNEW', secret: 'continue-as-new-secret' };

describe('TradingSession continue-as-new', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;

  before(async () => {
    db = await createTestDatabase('tt_session_can');
    await seedReplayDay(db, SYMBOLS, 30, 5);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when the threshold is lowered, then the session continues as new several times, keeps its state and loses no update sent around the switch', async () => {
    // Reference: the same day without continue-as-new.
    const refEnv = await startSessionEnv(t, db, SYMBOLS, CREDS);
    let reference: SessionResult;
    try {
      const input = sessionInput(refEnv.workers, SYMBOLS, { sessionId: 'sess-can-1' });
      reference = (await t.client.workflow.execute('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `test-can-ref-${Date.now()}`,
        args: [input],
      })) as SessionResult;
    } finally {
      await refEnv.close();
    }

    const env = await startSessionEnv(t, db, SYMBOLS, CREDS);
    try {
      const input = sessionInput(env.workers, SYMBOLS, {
        sessionId: 'sess-can-1',
        continueAsNewAfterCycles: 4,
        replayBarDelayMs: 0,
      });
      const wfId = `test-can-${Date.now()}`;
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: wfId,
        args: [input],
      });
      // A stream of limit changes while runs hand over to each other; each must land exactly once.
      // maxOrderNotional stays above anything the strategy trades, so the orders match the reference run.
      const updates = 12;
      for (let i = 1; i <= updates; i++) {
        await handle.executeUpdate(setRiskLimitsUpdate, { args: [{ maxOrderNotional: 1_000_000 + i }] });
        await new Promise((r) => setTimeout(r, 120));
      }
      const result = (await handle.result()) as SessionResult;
      const status = await t.client.workflow.getHandle(wfId).query(statusQuery);
      assert.ok(result.runs >= 4, `continued as new several times (runs=${result.runs})`);
      assert.equal(status.state.limitsVersion, updates, 'every update applied once');
      assert.equal(status.state.limits.maxOrderNotional, 1_000_000 + updates);
      assert.equal(status.state.controls.filter((c) => c.action === 'setRiskLimits').length, updates);
      assert.equal(
        status.state.cycles,
        status.state.barTimes.length,
        'no bar skipped or repeated across runs',
      );
      // State carried intact: the same orders as the uninterrupted run, placed once each.
      const sessionIds = input.sessionId;
      const accepted = env.sim.exchange
        .acceptedClientOrderIds()
        .filter((c) => c.startsWith(`${sessionIds}:`));
      assert.equal(accepted.length, result.ordersPlaced);
      assert.equal(new Set(accepted).size, accepted.length);
      assert.equal(result.ordersPlaced, reference.ordersPlaced);
      assert.equal(result.orderHash, reference.orderHash, 'same orders in the same order');
      assert.deepEqual(result.finalPositions, reference.finalPositions);
      assert.equal(result.dailyPnl, reference.dailyPnl);
      await recordHistory(t.client.workflow.getHandle(wfId), 'trading-session-continued');
    } finally {
      await env.close();
    }
  });
});
