import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { marketDataStreamWorkflowId, type MarketDataStreamResult } from '../../contracts/market-data';
import type { SessionResult } from '../../contracts/session';
import type { SimulatorServer } from '../../src/execution/simulator/server';
import type { Bar } from '../../src/model/bar';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  PAPER_CLOSE,
  PAPER_MINUTES,
  PAPER_OPEN,
  createPaperWorkers,
  paperBacktest,
  paperSessionInput,
  placements,
  seedVenueDay,
  startPaperVenue,
  venueBars,
} from '../support/paper-session';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['PPA', 'PPB', 'PPC', 'PPD', 'PPE'];
/** The venue's pace: one simulated minute per wall second. */
const SPEED = 60;

/**
 * Acceptance 1 of issue 15, end to end with no shortcut: the simulator plays a stored day as a live venue on its
 * own running clock at 60×, reading the day from the venue's database; a paper `tradingSessionWorkflow` for the
 * simulator's today runs on workers whose database starts empty, so every bar it decides on arrived through the
 * market-data websocket stream the session started (no backfill of the day). Its orders equal `runBacktest` over
 * the venue's bars: the same order-list hash, counts, final positions and P&L.
 *
 * The day is a whole calendar day that is short by itself: 2024-11-29, the day after Thanksgiving, when NYSE
 * closes at 13:00 (210 one-minute bars, 3.5 minutes of wall time at 60×); the session's grid is the calendar's,
 * and the day ends with the exchange's close (flat two bars before it, then the final account and report).
 */
describe('paper session on the simulator as a live venue, bars through the stream (issue 15, acceptance 1)', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;
  let dayBars: Bar[];

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_paper_venue');
    storeDb = await createTestDatabase('tt_paper_store');
    await seedVenueDay(venueDb.pool, SYMBOLS);
    dayBars = await venueBars(venueDb.pool, SYMBOLS);
    // the venue's clock stands at 09:25 New York until the test starts it
    sim = await startPaperVenue(venueDb.pool, SYMBOLS, PAPER_OPEN - 5 * 60_000);
  });
  after(async () => {
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  test('when a paper session trades the simulator’s day at 60× through the stream, then its orders equal the backtest’s over the same bars, and every minute came through the stream once', async (ctx) => {
    const before = await storeDb.pool.query<{ n: string }>(`select count(*)::text as n from bars`);
    assert.equal(Number(before.rows[0]!.n), 0, 'the session’s store holds no bars at the start');
    const workers = await createPaperWorkers(t, storeDb, sim);
    const account = `P${randomUUID().slice(0, 8)}`;
    const input = paperSessionInput(workers, SYMBOLS, {
      account,
      stream: { clockPollMs: 200, closeGraceMs: 500 },
    });
    let session: SessionResult;
    let stream: MarketDataStreamResult;
    try {
      // the venue's clock runs first: the session reads its pace once, at its start
      sim.replay.start(SPEED);
      session = (await t.client.workflow.execute('tradingSessionWorkflow', {
        taskQueue: workers.ioQueue,
        workflowId: `test-paper-${input.sessionId}`,
        args: [input],
      })) as SessionResult;
      // the stream ends by itself once the venue's clock has passed the close
      stream = (await t.client.workflow
        .getHandle(marketDataStreamWorkflowId({ account, date: input.date }))
        .result()) as MarketDataStreamResult;
    } finally {
      await workers.shutdown();
    }
    const backtest = paperBacktest(dayBars, SYMBOLS, input.sessionId);

    // the same orders as the backtest over the venue's bars
    ctx.diagnostic(
      `session: ${session.ordersPlaced} orders, hash ${session.orderHash}, P&L ${session.dailyPnl}; backtest: ${backtest.submitted} submitted`,
    );
    assert.ok(backtest.submitted >= 50, `enough orders to compare (${backtest.submitted})`);
    assert.equal(session.orderHash, backtest.orderHash, 'order-list hash');
    assert.equal(session.ordersPlaced, backtest.submitted - backtest.rejectedByBroker, 'orders placed');
    const held = (positions: ReadonlyArray<{ symbol: string; qty: number }>) =>
      positions
        .filter((p) => p.qty !== 0)
        .map((p) => `${p.symbol}:${p.qty}`)
        .sort();
    assert.deepEqual(held(session.finalPositions), held(backtest.openPositions), 'final positions (flat)');
    assert.equal(
      session.dailyPnl,
      Math.round((backtest.finalAccount.equity - 100_000) * 100) / 100,
      'daily P&L',
    );

    // every order placed once at the venue
    const { accepted } = placements(sim);
    assert.equal(accepted.size, session.ordersPlaced, 'one accepted placement per order');
    assert.ok(
      [...accepted.values()].every((n) => n === 1),
      'no order placed twice',
    );

    // every minute of every symbol stored once, all through the websocket stream
    assert.equal(stream.stopped, false);
    const stored = await storeDb.pool.query<{ symbol: string; n: string }>(
      `select symbol, count(*)::text as n from bars where timeframe = '1m' and ts >= $1 and ts < $2
        group by symbol order by symbol`,
      [new Date(PAPER_OPEN), new Date(PAPER_CLOSE)],
    );
    assert.deepEqual(
      Object.fromEntries(stored.rows.map((r) => [r.symbol, Number(r.n)])),
      Object.fromEntries(SYMBOLS.map((s) => [s, PAPER_MINUTES])),
    );
    const receipts = await storeDb.pool.query<{ path: string; n: string }>(
      `select path, count(*)::text as n from bar_receipts group by path order by path`,
    );
    assert.deepEqual(
      receipts.rows.map((r) => `${r.path}:${r.n}`),
      [`stream:${SYMBOLS.length * PAPER_MINUTES}`],
      'every bar through the stream (none through REST)',
    );
  });
});
