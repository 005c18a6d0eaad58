import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { createMarketDataActivities } from '../../../activities/market-data.activities';
import {
  marketDataStreamWorkflowId,
  type MarketDataStreamInput,
  type MarketDataStreamResult,
} from '../../../contracts/market-data';
import type { SimulatorServer } from '../../../src/execution/simulator/server';
import { TickStore } from '../../../src/data/tick-store';
import { tradingMetrics } from '../../../src/monitoring/metrics';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  connectTemporal,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';
import {
  CLOSE,
  DAY,
  MINUTES,
  OPEN,
  dayChecksum,
  endpointsOf,
  seedVenueDay,
  startVenue,
  storedDay,
  waitFor,
} from './stream-support';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'];
const FOCUS = ['AAA'];
const SPEED = 1200; // a 390-minute day in 19.5 s of wall time

void describe('market-data stream: the simulator plays a stored day and the stream stores it', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;
  let venue: Awaited<ReturnType<typeof seedVenueDay>>;

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_stream_venue');
    storeDb = await createTestDatabase('tt_stream_store');
    venue = await seedVenueDay(venueDb.pool, SYMBOLS, FOCUS);
    sim = await startVenue(venueDb.pool, SYMBOLS);
  });
  after(async () => {
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  void test(`when the simulator replays ${DAY} at ${SPEED}x, then every minute bar of the day is stored exactly once, all through the websocket`, async () => {
    const taskQueue = uniqueQueue('stream-day');
    const input: MarketDataStreamInput = {
      account: 'sim',
      date: DAY,
      symbols: SYMBOLS,
      focus: FOCUS,
      clockPollMs: 200,
      closeGraceMs: 300,
      heartbeatTimeoutMs: 5_000,
      taskQueue,
    };
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createMarketDataActivities({ pool: storeDb.pool, alpaca: endpointsOf(sim) }),
    });
    const before = await tradingMetrics.barStoreLatency.get();
    const countOf = (h: typeof before): number =>
      h.values.find((v) => v.metricName?.endsWith('_count') && v.labels.path === 'stream')?.value ?? 0;

    const result = (await worker.runUntil(async () => {
      const handle = await t.client.workflow.start('marketDataStreamWorkflow', {
        taskQueue,
        workflowId: `${marketDataStreamWorkflowId(input)}-${taskQueue}`,
        args: [input],
      });
      // The venue's day starts once the consumer is subscribed (a live venue would not wait; this makes the
      // test's claim — nothing through REST — independent of how fast the worker starts).
      await waitFor('the stream subscription', () => sim.marketData.stats.subscribes >= 1);
      await new Promise((r) => setTimeout(r, 200));
      sim.replay.start(SPEED);
      return handle.result();
    })) as MarketDataStreamResult;

    assert.equal(result.stopped, false);
    const p = result.progress!;
    assert.equal(p.barsFromRest, 0, 'no minute came through REST');
    assert.equal(p.reconnects, 0);
    assert.equal(p.barsFromStream, SYMBOLS.length * MINUTES);

    const stored = await storedDay(storeDb.pool);
    assert.deepEqual(
      stored.bars,
      Object.fromEntries(SYMBOLS.map((s) => [s, MINUTES])),
      'each symbol has every minute of the day',
    );
    assert.deepEqual(
      stored.receipts,
      SYMBOLS.map((s) => `${s}:stream:${MINUTES}`),
      'every bar reached the store through the websocket',
    );
    assert.equal(
      await dayChecksum(storeDb.pool),
      await dayChecksum(venueDb.pool),
      'values as the venue sent them',
    );
    assert.deepEqual(
      Object.fromEntries(Object.entries(p.lastStored).sort()),
      Object.fromEntries(SYMBOLS.map((s) => [s, CLOSE - 60_000])),
    );

    // Quotes and trades of the focus symbol, as the venue published them.
    const ticks = new TickStore(storeDb.pool);
    const quotes = await ticks.readQuotes('AAA', OPEN, CLOSE);
    const trades = await ticks.readTrades('AAA', OPEN, CLOSE);
    assert.equal(quotes.length, venue.quotes.length);
    assert.equal(trades.length, venue.trades.length);
    assert.deepEqual(
      trades.map((x) => [x.ts, x.price, x.size, x.id]),
      venue.trades.map((x) => [x.ts, x.price, x.size, x.id]),
    );
    assert.equal((await ticks.readQuotes('BBB', OPEN, CLOSE)).length, 0, 'quotes only for the focus symbols');

    // The latency probe observed every stored bar.
    const after = await tradingMetrics.barStoreLatency.get();
    assert.equal(countOf(after) - countOf(before), SYMBOLS.length * MINUTES);
  });
});
