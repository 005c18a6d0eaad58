import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from '@temporalio/worker';
import { createDataActivities } from '../../../activities/data.activities';
import type { BackfillInput, BackfillSummary } from '../../../contracts/backfill';
import { AlpacaMarketData } from '../../../src/data/alpaca';
import { TickStore } from '../../../src/data/tick-store';
import { UnusualWhalesClient } from '../../../src/data/unusual-whales';
import type { SimulatorServer } from '../../../src/execution/simulator/server';
import { MICROSTRUCTURE_FEATURE_SET } from '../../../src/features/sets';
import { computeAndStoreFeatures } from '../../../src/features/store-service';
import { FeatureStore } from '../../../src/features/store';
import { MemoryCache } from '../../../src/storage/cache';
import { MarketDataRepository } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  connectTemporal,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';
import { CLOSE, CREDS, OPEN, seedVenueDay, startVenue } from './stream-support';

const SYMBOL = 'MSA';
/** Options-flow alerts of the day: minute after the open, call/put, premium. */
const ALERTS: Array<[number, 'call' | 'put', number]> = [
  [10, 'call', 1_000_000],
  [12, 'put', 400_000],
  [45, 'call', 200_000],
  [200, 'put', 300_000],
];

/** Unusual Whales' flow-alerts endpoint as documented: newest first, paged backwards with older_than. */
async function startFlowStub(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const alerts = ALERTS.map(([m, type, premium], i) => ({
    id: `alert-${i}`,
    ticker: SYMBOL,
    created_at: new Date(OPEN + m * 60_000 + 5_000).toISOString(),
    option_chain: `${SYMBOL}240315${type === 'call' ? 'C' : 'P'}00100000`,
    type,
    strike: '100',
    expiry: '2024-03-15',
    total_premium: String(premium),
    total_size: 100,
    underlying_price: '100.5',
  })).reverse();
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://stub');
    requests.push(u.pathname);
    if (req.headers.authorization !== 'Bearer uw-token') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"unauthorized"}');
      return;
    }
    const older = Date.parse(u.searchParams.get('older_than')!);
    const newer = Date.parse(u.searchParams.get('newer_than')!);
    const limit = Number(u.searchParams.get('limit'));
    const data = alerts
      .filter((a) => u.searchParams.get('ticker_symbol') === a.ticker)
      .filter((a) => Date.parse(a.created_at) < older && Date.parse(a.created_at) >= newer)
      .slice(0, Math.min(limit, 2));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}

/** The quote rule against the prevailing quote, the tick rule at the mid or without one (as a desk signs prints). */
function signOf(price: number, bid: number, ask: number, prev: { price: number; sign: number }): number {
  const mid = (bid + ask) / 2;
  let s = Number.isFinite(mid) ? (price > mid ? 1 : price < mid ? -1 : 0) : 0;
  if (s === 0 && Number.isFinite(prev.price))
    s = price > prev.price ? 1 : price < prev.price ? -1 : prev.sign;
  return s;
}

void describe('quotes, trades and options flow as backfill sources, and the microstructure feature set', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;
  let flow: Awaited<ReturnType<typeof startFlowStub>>;
  let venue: Awaited<ReturnType<typeof seedVenueDay>>;

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_micro_venue');
    storeDb = await createTestDatabase('tt_micro_store');
    venue = await seedVenueDay(venueDb.pool, [SYMBOL], [SYMBOL]);
    sim = await startVenue(venueDb.pool, [SYMBOL]);
    // The venue's day is over: its whole history is served.
    sim.replay.clock.advanceTo(CLOSE + 60_000);
    sim.replay.advanceTo(CLOSE);
    flow = await startFlowStub();
  });
  after(async () => {
    await new Promise((r) => flow?.server.close(r));
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  const backfill = async (source: BackfillInput['source']): Promise<BackfillSummary> => {
    const taskQueue = uniqueQueue('tick-backfill');
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createDataActivities({
        repo: new MarketDataRepository(storeDb.pool),
        alpaca: new AlpacaMarketData({
          keyId: CREDS.keyId,
          secret: CREDS.secret,
          dataBaseUrl: sim.dataUrl,
          pageLimit: 500,
        }),
        unusualWhales: new UnusualWhalesClient({ token: 'uw-token', baseUrl: flow.url, limit: 2 }),
        ticks: new TickStore(storeDb.pool),
      }),
    });
    const input: BackfillInput = { symbols: [SYMBOL], timeframes: ['1m'], fromMs: OPEN, toMs: CLOSE, source };
    return (await worker.runUntil(
      t.client.workflow.execute('backfillWorkflow', { taskQueue, workflowId: taskQueue, args: [input] }),
    )) as BackfillSummary;
  };

  void test('when quotes, trades and options flow are backfilled, then each table holds the day once, and a second run changes nothing', async () => {
    const bars = await backfill({ kind: 'alpaca', feed: 'iex' });
    const quotes = await backfill({ kind: 'alpaca-quotes', feed: 'iex' });
    const trades = await backfill({ kind: 'alpaca-trades' });
    const alerts = await backfill({ kind: 'unusual-whales' });
    for (const s of [bars, quotes, trades, alerts]) assert.deepEqual(s.failed, []);
    assert.equal(bars.rowsStored, venue.bars.length);
    assert.equal(quotes.rowsStored, venue.quotes.length);
    assert.equal(trades.rowsStored, venue.trades.length);
    assert.equal(alerts.rowsStored, ALERTS.length);

    const ticks = new TickStore(storeDb.pool);
    assert.deepEqual(
      (await ticks.readQuotes(SYMBOL, OPEN, CLOSE)).map((q) => [q.ts, q.bid, q.ask, q.bidSize, q.askSize]),
      venue.quotes.map((q) => [q.ts, q.bid, q.ask, q.bidSize, q.askSize]),
    );
    assert.deepEqual(
      (await ticks.readTrades(SYMBOL, OPEN, CLOSE)).map((x) => [x.ts, x.price, x.size, x.exchange, x.id]),
      venue.trades.map((x) => [x.ts, x.price, x.size, x.exchange, x.id]),
    );
    const { rows } = await storeDb.pool.query<{ id: string; put_call: string; premium: number }>(
      'select id, put_call, premium from options_flow order by ts',
    );
    assert.deepEqual(
      rows.map((r) => [r.put_call, r.premium]),
      ALERTS.map(([, type, premium]) => [type, premium]),
    );

    const again = await Promise.all([
      backfill({ kind: 'alpaca-quotes', feed: 'iex' }),
      backfill({ kind: 'alpaca-trades' }),
      backfill({ kind: 'unusual-whales' }),
    ]);
    assert.deepEqual(
      again.map((s) => s.rowsChanged),
      [0, 0, 0],
    );
  });

  void test('when the microstructure set is computed from the store, then its quote, trade and options-flow columns are what the stored rows say, as of each bar’s close', async () => {
    const summary = await computeAndStoreFeatures(
      { pool: storeDb.pool, cache: new MemoryCache() },
      { symbols: [SYMBOL], set: MICROSTRUCTURE_FEATURE_SET, fromMs: OPEN, toMs: CLOSE, warmUpDays: 0 },
    );
    assert.equal(summary.symbols[0]!.rows, venue.bars.length);
    const set = MICROSTRUCTURE_FEATURE_SET;
    const stored = await new FeatureStore(storeDb.pool, new MemoryCache()).readOffline(
      SYMBOL,
      '1m',
      set.version,
      OPEN,
      CLOSE,
    );
    const col = (name: string) => set.names.indexOf(name);
    const at = (row: number, name: string) => stored.values[row * stored.cols + col(name)]!;
    const close = (row: number) => OPEN + row * 60_000 + 60_000;

    // Quotes: the last quote before each bar's close.
    for (const row of [0, 17, 389]) {
      const q = venue.quotes.filter((x) => x.ts < close(row)).at(-1)!;
      const mid = (q.bid + q.ask) / 2;
      assert.ok(
        Math.abs(at(row, '1m:spreadBps') - ((q.ask - q.bid) / mid) * 1e4) < 1e-3,
        `spread row ${row}`,
      );
      assert.ok(
        Math.abs(at(row, '1m:quoteImbalance') - (q.bidSize - q.askSize) / (q.bidSize + q.askSize)) < 1e-6,
      );
    }

    // Trades: signed volume over the last 5 bars / their volume.
    const signedPerBar = new Map<number, [number, number]>();
    const prev = { price: NaN, sign: 0 };
    for (const x of venue.trades) {
      const q = venue.quotes.filter((y) => y.ts <= x.ts).at(-1);
      const s = signOf(x.price, q?.bid ?? NaN, q?.ask ?? NaN, prev);
      prev.price = x.price;
      prev.sign = s;
      const bar = Math.floor((x.ts - OPEN) / 60_000);
      const [sv, v] = signedPerBar.get(bar) ?? [0, 0];
      signedPerBar.set(bar, [sv + s * x.size, v + x.size]);
    }
    for (const row of [4, 100, 389]) {
      let sv = 0;
      let v = 0;
      for (let b = row - 4; b <= row; b++) {
        sv += signedPerBar.get(b)?.[0] ?? 0;
        v += signedPerBar.get(b)?.[1] ?? 0;
      }
      assert.ok(Math.abs(at(row, '1m:tradeImbalance_5') - sv / v) < 1e-6, `trade imbalance row ${row}`);
    }
    assert.ok(Number.isNaN(at(3, '1m:tradeImbalance_5')), 'not before 5 bars');

    // Options flow: premium balance and activity over the last 30 bars (the first 29 rows warm up).
    assert.ok(Number.isNaN(at(28, '1m:optionsFlowImbalance_30')), 'warming up');
    assert.ok(Math.abs(at(39, '1m:optionsFlowImbalance_30') - (1_000_000 - 400_000) / 1_400_000) < 1e-6);
    assert.ok(Math.abs(at(39, '1m:optionsFlowActivity_30') - Math.log1p(2)) < 1e-6);
    assert.ok(
      Math.abs(at(41, '1m:optionsFlowImbalance_30') - -1) < 1e-6,
      'the call of minute 10 left the window',
    );
    assert.ok(Number.isNaN(at(150, '1m:optionsFlowImbalance_30')), 'no flow in the window: no value');
    assert.equal(at(150, '1m:optionsFlowActivity_30'), 0);
    // No look-ahead: the alert of minute 45 (at 10:15:05) is in the row of minute 45, not of minute 44.
    assert.ok(Number.isNaN(at(44, '1m:optionsFlowImbalance_30')));
    assert.ok(Math.abs(at(45, '1m:optionsFlowImbalance_30') - 1) < 1e-6);
  });
});
