import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SessionResult } from '../../contracts/session';
import { TickStore } from '../../src/data/tick-store';
import { ALGO_SLICE_SEQ_BASE, parseClientOrderId } from '../../src/model/client-order-id';
import type { Quote } from '../../src/model/bar';
import { chooseOrderType, quotedSpreadBps } from '../../src/session/exec-algos';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['QTA', 'QTB', 'QTC', 'QTD'];
/** Symbols the stream stored quotes for: a 40 bps market, quoted every minute. */
const QUOTED = ['QTA', 'QTB'];
const QUOTED_SPREAD_BPS = 40;

describe('live quotes feed the spread of order-type choice (issue 15)', () => {
  test('when the newest quote is fresh and two-sided, then its spread is used; stale, one-sided, crossed or later than the decision: none (the assumption applies)', () => {
    const at = 1_000_000;
    const q = (ts: number, bid: number, ask: number) => ({ ts, bid, ask });
    assert.equal(quotedSpreadBps(q(at - 5_000, 99.9, 100.1), at, 60_000)?.toFixed(6), '20.000000');
    assert.equal(quotedSpreadBps(q(at - 61_000, 99.9, 100.1), at, 60_000), null, 'stale');
    assert.equal(quotedSpreadBps(q(at + 1, 99.9, 100.1), at, 60_000), null, 'after the decision');
    assert.equal(quotedSpreadBps(q(at - 1, NaN, 100.1), at, 60_000), null, 'one-sided');
    assert.equal(quotedSpreadBps(q(at - 1, 100.2, 100.1), at, 60_000), null, 'crossed');
    assert.equal(quotedSpreadBps(undefined, at, 60_000), null, 'no quote');
    // the choice it feeds: a tight market sends market orders, a wide one marketable limits
    assert.deepEqual(chooseOrderType({ side: 'buy', refPrice: 100, spreadBps: 4, urgency: 'normal' }), {
      type: 'market',
    });
    assert.equal(
      chooseOrderType({ side: 'buy', refPrice: 100, spreadBps: QUOTED_SPREAD_BPS, urgency: 'normal' }).type,
      'limit',
    );
  });

  describe('in a session whose entries are worked by an algorithm', () => {
    let db: TestDatabase;
    let t: TemporalTestContext;
    before(async () => {
      db = await createTestDatabase('tt_session_quotes');
      const bars = await seedReplayDay(db, SYMBOLS, 40, 13);
      // the stream's quotes of the focus symbols: one 30 s into every minute, 40 bps wide around the close
      const quotes: Quote[] = bars
        .filter((b) => QUOTED.includes(b.symbol))
        .map((b) => {
          const half = (b.close * QUOTED_SPREAD_BPS) / 20_000;
          return {
            symbol: b.symbol,
            ts: b.ts + 30_000,
            bid: Math.round((b.close - half) * 10_000) / 10_000,
            ask: Math.round((b.close + half) * 10_000) / 10_000,
            bidSize: 300,
            askSize: 300,
          };
        });
      await new TickStore(db.pool).upsertQuotes(quotes, 'test-stream');
      t = await connectTemporal();
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    test('when a symbol has fresh stored quotes, then its algorithm slices go out as marketable limits at that spread; without quotes, as market orders on the assumed spread', async () => {
      const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKQUOTES', secret: 'quotes-secret' });
      const input = sessionInput(env.workers, SYMBOLS, {
        // every sma-trend entry (~4% of $100k) goes to a TWAP; the assumed spread (5 bps) means market orders
        execution: { algoMinNotional: 1_500, algo: 'twap', slices: 2, intervalMs: 1_000, spreadBps: 5 },
      });
      try {
        (await t.client.workflow.execute('tradingSessionWorkflow', {
          taskQueue: input.taskQueues!.io!,
          workflowId: `test-quotes-${input.sessionId}`,
          args: [input],
        })) as SessionResult;
      } finally {
        await env.close();
      }
      const slices = env.sim.exchange
        .listOrders('all')
        .filter(
          (o) =>
            o.clientOrderId.startsWith(`${input.sessionId}:`) &&
            (parseClientOrderId(o.clientOrderId)?.seq ?? 0) >= ALGO_SLICE_SEQ_BASE,
        );
      const typesOf = (symbols: readonly string[]) =>
        new Set(slices.filter((o) => symbols.includes(o.symbol)).map((o) => o.type));
      const unquoted = SYMBOLS.filter((s) => !QUOTED.includes(s));
      assert.ok(
        slices.some((o) => QUOTED.includes(o.symbol)),
        'quoted symbols were worked',
      );
      assert.ok(
        slices.some((o) => unquoted.includes(o.symbol)),
        'unquoted symbols were worked',
      );
      assert.deepEqual([...typesOf(QUOTED)], ['limit'], 'the quoted 40 bps spread: marketable limits');
      assert.deepEqual([...typesOf(unquoted)], ['market'], 'no quote: the assumed 5 bps, market orders');
    });
  });
});
