import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { ExecAlgoInput, ExecAlgoResult } from '../../contracts/exec-algo';
import {
  chooseOrderType,
  executionQuality,
  twapSchedule,
  volumeCurve,
  vwapSchedule,
} from '../../src/session/exec-algos';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, startSessionEnv } from '../support/session-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

describe('execution algorithms: schedules, order type, quality', () => {
  test('when a quantity is sliced by TWAP or VWAP, then the slices are non-negative integers summing to the parent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 30 }),
        (qty, curve) => {
          fc.pre(curve.some((w) => w > 0));
          for (const plan of [twapSchedule(qty, curve.length), vwapSchedule(qty, curve)]) {
            assert.equal(
              plan.reduce((s, x) => s + x, 0),
              qty,
            );
            assert.ok(plan.every((x) => Number.isInteger(x) && x >= 0));
          }
        },
      ),
    );
    assert.deepEqual(vwapSchedule(100, [1, 3, 0, 1]), [20, 60, 0, 20]);
    assert.deepEqual(
      volumeCurve(
        [
          [10, 10, 30, 30],
          [10, 10, 10, 10],
        ],
        2,
      ),
      [20, 40],
    );
  });

  test('when urgency is high or the spread tight, then market; otherwise a marketable limit through the far touch', () => {
    assert.deepEqual(chooseOrderType({ side: 'buy', refPrice: 100, spreadBps: 20, urgency: 'high' }), {
      type: 'market',
    });
    assert.deepEqual(chooseOrderType({ side: 'buy', refPrice: 100, spreadBps: 4, urgency: 'normal' }), {
      type: 'market',
    });
    assert.deepEqual(chooseOrderType({ side: 'buy', refPrice: 100, spreadBps: 20, urgency: 'normal' }), {
      type: 'limit',
      limitPrice: 100.2,
    });
    assert.deepEqual(chooseOrderType({ side: 'sell', refPrice: 100, spreadBps: 20, urgency: 'low' }), {
      type: 'limit',
      limitPrice: 99.88,
    });
  });

  test('when fills are worse than arrival, then slippage and shortfall are positive and include the unfilled part', () => {
    const q = executionQuality(
      'buy',
      100,
      50,
      [{ clientOrderId: 'a', qty: 60, filledQty: 60, avgPrice: 50.5, status: 'filled' }],
      51,
    );
    assert.equal(q.filledQty, 60);
    assert.ok(Math.abs(q.slippageBps! - 100) < 1e-9);
    assert.ok(Math.abs(q.implementationShortfall! - (0.5 * 60 + 1 * 40)) < 1e-9);
  });
});

describe('executionAlgoWorkflow on the simulator', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  before(async () => {
    db = await createTestDatabase('tt_exec_algo');
    await seedReplayDay(db, ['TWP'], 240, 3); // 24 s of market at the ticker's pace: longer than the TWAP
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when a TWAP works 90 shares in 3 slices while the market trades, then 3 child orders fill it and quality is recorded', async () => {
    const env = await startSessionEnv(t, db, ['TWP'], { keyId: 'PKALGO', secret: 'algo-secret' });
    const ticker = setInterval(() => {
      const next = env.sim.replay.barTimes().find((ts) => ts > env.sim.replay.watermark);
      if (next !== undefined) env.sim.replay.advanceTo(next);
    }, 100);
    try {
      env.sim.replay.advanceTo(env.sim.replay.barTimes()[0]!);
      const arrival = env.sim.exchange.priceOf('TWP')!;
      const input: ExecAlgoInput = {
        sessionId: `algo-${randomUUID().slice(0, 8)}`,
        decidedAt: env.sim.replay.barTimes()[0]!,
        symbol: 'TWP',
        side: 'buy',
        qty: 90,
        algo: 'twap',
        slices: 3,
        intervalMs: 1_000,
        arrivalPrice: arrival,
        spreadBps: 2,
        urgency: 'normal',
        taskQueues: { io: env.workers.ioQueue, execution: env.workers.execQueue },
      };
      const r = (await t.client.workflow.execute('executionAlgoWorkflow', {
        taskQueue: env.workers.ioQueue,
        workflowId: `test-twap-${input.sessionId}`,
        args: [input],
      })) as ExecAlgoResult;
      assert.equal(r.children.length, 3);
      assert.deepEqual(
        r.children.map((c) => c.qty),
        [30, 30, 30],
      );
      assert.equal(r.filledQty, 90);
      assert.ok(Number.isFinite(r.slippageBps));
      assert.equal(
        env.sim.exchange.acceptedClientOrderIds().filter((c) => c.startsWith(`${input.sessionId}:`)).length,
        3,
      );
      const { rows } = await db.pool.query<{ filled_qty: number }>(
        'select filled_qty from execution_quality where session_id = $1',
        [input.sessionId],
      );
      assert.deepEqual(
        rows.map((x) => x.filled_qty),
        [90],
      );
    } finally {
      clearInterval(ticker);
      await env.close();
    }
  });
});
