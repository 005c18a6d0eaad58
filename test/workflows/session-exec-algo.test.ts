import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEFAULT_EXECUTION_ROUTING,
  validateExecutionRouting,
  type SessionResult,
} from '../../contracts/session';
import { ALGO_SLICE_SEQ_BASE, parseClientOrderId } from '../../src/model/client-order-id';
import { createSessionActivities } from '../../activities/session.activities';
import { PgBarSource, upsertBars } from '../../src/storage/bar-store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { syntheticDayBars } from '../support/sim-bars';
import { connectTemporal, recordHistory, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'];
/** sessions before SESSION_DATE (2024-03-12): the VWAP curve's history */
const HISTORY_DAYS = ['2024-03-07', '2024-03-08', '2024-03-11'];

describe('TradingSession: large entries worked by TWAP/VWAP child workflows', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  before(async () => {
    db = await createTestDatabase('tt_session_algo');
    await seedReplayDay(db, SYMBOLS, 40);
    for (const [i, date] of HISTORY_DAYS.entries())
      await upsertBars(
        db.pool,
        syntheticDayBars({ date, symbols: SYMBOLS, minutes: 60, seed: 50 + i }),
        'test-history',
        true,
      );
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when entries reach the algorithm threshold, then child workflows slice them (each slice placed once, the sliced order never sent itself), quality is recorded and the day ends flat', async () => {
    const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKALGOSESS', secret: 'algo-session-secret' });
    const input = sessionInput(env.workers, SYMBOLS, {
      // sma-trend sizes its entries at ~4% of $100k: a $1,500 threshold sends them all to an algorithm
      execution: {
        algoMinNotional: 1_500,
        algo: 'vwap',
        slices: 3,
        intervalMs: 1_000,
        volumeLookbackDays: 3,
      },
      replayBarDelayMs: 0,
    });
    const wfId = `test-algo-${input.sessionId}`;
    let result: SessionResult;
    try {
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: wfId,
        args: [input],
      });
      result = (await handle.result()) as SessionResult;
      await recordHistory(handle, 'trading-session-exec-algo');
      // every algorithm has ended: none is left slicing after the session's day
      const running: string[] = [];
      for await (const w of t.client.workflow.list({
        query: `WorkflowType = 'executionAlgoWorkflow' AND ExecutionStatus = 'Running'`,
      }))
        if (w.workflowId.startsWith(`${input.sessionId}/algo/`)) running.push(w.workflowId);
      assert.deepEqual(running, []);
    } finally {
      await env.close();
    }
    const accepted = env.sim.exchange
      .acceptedClientOrderIds()
      .filter((c) => c.startsWith(`${input.sessionId}:`));
    assert.equal(new Set(accepted).size, accepted.length, 'no duplicate client order id at the simulator');
    const slices = accepted.filter((id) => (parseClientOrderId(id)?.seq ?? 0) >= ALGO_SLICE_SEQ_BASE);
    assert.ok(slices.length >= 2, `algorithms sent slices (${slices.length})`);

    const { rows } = await db.pool.query<{
      parent_key: string;
      algo: string;
      qty: number;
      filled_qty: number;
      children: Array<{ clientOrderId: string }>;
    }>('select parent_key, algo, qty, filled_qty, children from execution_quality where session_id = $1', [
      input.sessionId,
    ]);
    assert.ok(rows.length >= 1, 'execution quality recorded per algorithm order');
    // the VWAP curve is shaped per bar of history: with 1 s replay pacing every slice still carries volume
    assert.ok(
      rows.some((r) => r.children.length >= 2),
      `orders worked in several slices (${rows.map((r) => r.children.length).join(', ')})`,
    );
    for (const r of rows) {
      assert.equal(r.algo, 'vwap');
      assert.ok(r.filled_qty <= r.qty, `filled ${r.filled_qty} <= ${r.qty}`);
      for (const c of r.children)
        assert.ok(slices.includes(c.clientOrderId), `${c.clientOrderId} reached the broker`);
    }
    // the approved order an algorithm works never reaches the broker itself: only its slices do
    const parents = new Set(
      slices.map((id) => {
        const p = parseClientOrderId(id)!;
        return `${p.symbol}@${p.barTs}:${Math.floor((p.seq - ALGO_SLICE_SEQ_BASE) / 1000)}`;
      }),
    );
    for (const id of accepted) {
      const p = parseClientOrderId(id)!;
      if (p.seq < ALGO_SLICE_SEQ_BASE)
        assert.ok(!parents.has(`${p.symbol}@${p.barTs}:${p.seq}`), `${id} was also sliced`);
    }
    assert.deepEqual(result.finalPositions, [], 'end of day stopped the algorithms and flattened');
    assert.deepEqual(env.sim.exchange.listOrders('open'), [], 'no slice left working');
  });

  test('when the day ends while algorithms are still slicing, then they are stopped before the flatten: no slice after it, nothing left open, flat', async () => {
    const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKALGOSTOP', secret: 'algo-stop-secret' });
    // 10 slices 5 s apart: far longer than the replayed day takes
    const input = sessionInput(env.workers, SYMBOLS, {
      execution: { algoMinNotional: 1_500, algo: 'twap', slices: 10, intervalMs: 5_000 },
      replayBarDelayMs: 0,
    });
    let result: SessionResult;
    try {
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `test-algo-stop-${input.sessionId}`,
        args: [input],
      });
      result = (await handle.result()) as SessionResult;
      const algos: Array<{ id: string; status: string }> = [];
      for await (const w of t.client.workflow.list({ query: `WorkflowType = 'executionAlgoWorkflow'` }))
        if (w.workflowId.startsWith(`${input.sessionId}/algo/`))
          algos.push({ id: w.workflowId, status: w.status.name });
      assert.ok(algos.length >= 1, 'algorithms were started');
      assert.deepEqual(
        algos.filter((a) => a.status !== 'COMPLETED'),
        [],
        'every algorithm confirmed its stop and completed',
      );
    } finally {
      await env.close();
    }
    const { rows } = await db.pool.query<{ children: unknown[] }>(
      'select children from execution_quality where session_id = $1',
      [input.sessionId],
    );
    assert.ok(rows.length >= 1 && rows.every((r) => r.children.length < 10), 'stopped before the last slice');
    assert.deepEqual(result.finalPositions, [], 'flat at the end of the day');
    assert.deepEqual(env.sim.exchange.listOrders('open'), [], 'no slice left working');
  });

  test('when only the participation rule is on, then entries larger than that share of the average bar volume are worked by an algorithm', async () => {
    const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKALGOPART', secret: 'algo-part-secret' });
    const input = sessionInput(env.workers, SYMBOLS, {
      // no notional rule: only participation routes (a tiny cap, so every entry of 2+ shares exceeds it)
      execution: { algoMinNotional: null, algoMaxParticipation: 0.0001, slices: 2, intervalMs: 1_000 },
      replayBarDelayMs: 0,
    });
    try {
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `test-algo-part-${input.sessionId}`,
        args: [input],
      });
      const result = (await handle.result()) as SessionResult;
      assert.deepEqual(result.finalPositions, []);
    } finally {
      await env.close();
    }
    const accepted = env.sim.exchange
      .acceptedClientOrderIds()
      .filter((c) => c.startsWith(`${input.sessionId}:`));
    const slices = accepted.filter((id) => (parseClientOrderId(id)?.seq ?? 0) >= ALGO_SLICE_SEQ_BASE);
    assert.ok(slices.length >= 2, `participation routed entries to algorithms (${slices.length} slices)`);
    const { rows } = await db.pool.query<{ algo: string }>(
      'select algo from execution_quality where session_id = $1',
      [input.sessionId],
    );
    assert.ok(rows.length >= 1 && rows.every((r) => r.algo === 'twap'));
  });

  test('when the VWAP curve is asked for, then it follows the same minutes of the previous sessions and sums to their volume shape', async () => {
    const acts = createSessionActivities({ bars: new PgBarSource(db.pool), pool: db.pool });
    const open = Date.parse(`${SESSION_DATE}T13:30:00Z`); // 09:30 New York (EDT from 2024-03-10)
    const curve = await acts.algoVolumeCurve({
      symbol: 'AAA',
      fromTs: open + 5 * 60_000,
      slices: 4,
      intervalMs: 5 * 60_000,
      lookbackDays: 3,
    });
    assert.equal(curve.length, 4);
    // the expected shape from the stored history, computed independently
    const want = [0, 0, 0, 0];
    for (const [i, date] of HISTORY_DAYS.entries()) {
      const bars = syntheticDayBars({ date, symbols: ['AAA'], minutes: 60, seed: 50 + i }).filter(
        (b) => b.symbol === 'AAA',
      );
      const dayOpen = bars[0]!.ts;
      for (const b of bars) {
        const k = Math.floor((b.ts - dayOpen - 5 * 60_000) / (5 * 60_000));
        if (k >= 0 && k < 4) want[k]! += b.volume / HISTORY_DAYS.length;
      }
    }
    curve.forEach((v, k) =>
      assert.ok(Math.abs(v - want[k]!) < 1e-6 * Math.max(1, want[k]!), `slice ${k}: ${v} vs ${want[k]}`),
    );
    await assert.rejects(
      acts.algoVolumeCurve({
        symbol: 'AAA',
        fromTs: Date.parse('2024-03-09T15:00:00Z'),
        slices: 2,
        intervalMs: 60_000,
        lookbackDays: 2,
      }),
      /fromTs: .* is not in a trading session/,
    );
  });

  test('when execution settings are wrong, then the error names the field', () => {
    assert.equal(validateExecutionRouting({}), undefined);
    assert.equal(validateExecutionRouting(DEFAULT_EXECUTION_ROUTING), undefined);
    assert.match(validateExecutionRouting({ slices: 0 })!, /^execution\.slices: 0 must be/);
    assert.match(validateExecutionRouting({ algo: 'pov' as never })!, /^execution\.algo: "pov"/);
    assert.match(validateExecutionRouting({ algoMinNotional: -5 })!, /^execution\.algoMinNotional/);
    assert.match(validateExecutionRouting({ intervalMs: 10 })!, /^execution\.intervalMs/);
    assert.match(validateExecutionRouting({ algoMaxParticipation: 0 })!, /^execution\.algoMaxParticipation/);
    assert.match(validateExecutionRouting({ volumeBars: 0 })!, /^execution\.volumeBars/);
    assert.match(validateExecutionRouting({ bogus: 1 } as never)!, /^execution\.bogus: unknown setting/);
    assert.equal(validateExecutionRouting({ algoMinNotional: null }), undefined);
  });
});
