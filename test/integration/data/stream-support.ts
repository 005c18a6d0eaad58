/**
 * Shared by the market-data stream tests: a stored "venue" day (bars of every symbol, quotes and trades of
 * the focus symbols) in its own database, the simulator serving it on its clock, and reads of what the
 * consumer stored in another database.
 */
import type { Pool } from 'pg';
import type { Bar, Quote } from '../../../src/model/bar';
import type { AlpacaEndpoints } from '../../../src/data/sources';
import { TickStore, type TradePrint } from '../../../src/data/tick-store';
import { sessionBounds } from '../../../src/execution/simulator/calendar';
import {
  loadBarsFromStore,
  loadQuotesFromStore,
  loadTradesFromStore,
} from '../../../src/execution/simulator/replay';
import { startSimulatorServer, type SimulatorServer } from '../../../src/execution/simulator/server';
import { syntheticDayBars } from '../../support/sim-bars';

export const DAY = '2024-03-12';
export const { open: OPEN, close: CLOSE } = sessionBounds(DAY);
export const MINUTES = (CLOSE - OPEN) / 60_000;
export const CREDS = { keyId: 'PKSTREAMTEST', secret: 'stream-test-secret' };

/** Quotes every 20 s and trades every 30 s of each minute around the bar's prices. */
export function ticksFor(bars: readonly Bar[], focus: readonly string[]) {
  const quotes: Quote[] = [];
  const trades: TradePrint[] = [];
  let id = 1;
  for (const b of bars) {
    if (!focus.includes(b.symbol)) continue;
    for (const s of [5, 25, 45]) {
      const mid = b.low + ((b.high - b.low) * s) / 60;
      quotes.push({
        symbol: b.symbol,
        ts: b.ts + s * 1000,
        bid: Math.round((mid - 0.01) * 100) / 100,
        ask: Math.round((mid + 0.01) * 100) / 100,
        bidSize: 100 + s,
        askSize: 200 - s,
      });
    }
    for (const s of [10, 40]) {
      trades.push({
        symbol: b.symbol,
        ts: b.ts + s * 1000,
        price: s === 10 ? b.open : b.close,
        size: 50 + s,
        exchange: 'V',
        id: String(id++),
      });
    }
  }
  return { quotes, trades };
}

/** Stores the venue's day (real rows, as a vendor's day would be). */
export async function seedVenueDay(pool: Pool, symbols: readonly string[], focus: readonly string[]) {
  const bars = syntheticDayBars({ date: DAY, symbols, minutes: MINUTES, seed: 5 });
  const store = new TickStore(pool);
  await store.upsertBars(bars, 'venue');
  const { quotes, trades } = ticksFor(bars, focus);
  await store.upsertQuotes(quotes, 'venue');
  await store.upsertTrades(trades, 'venue');
  return { bars, quotes, trades };
}

/** The simulator over the venue's stored day, its clock paused one minute before the open. */
export async function startVenue(
  pool: Pool,
  symbols: readonly string[],
  port?: number,
): Promise<SimulatorServer> {
  const range = { symbols, from: OPEN, to: CLOSE };
  return startSimulatorServer({
    bars: await loadBarsFromStore(pool, { ...range, timeframe: '1m' }),
    quotes: await loadQuotesFromStore(pool, range),
    trades: await loadTradesFromStore(pool, range),
    keyId: CREDS.keyId,
    secretKey: CREDS.secret,
    startingCash: 100_000,
    startAt: OPEN - 60_000,
    port,
  });
}

export function endpointsOf(sim: SimulatorServer): AlpacaEndpoints {
  return {
    keyId: CREDS.keyId,
    secret: CREDS.secret,
    dataBaseUrl: sim.dataUrl,
    tradingBaseUrl: sim.url,
    streamUrl: (feed) => sim.marketDataStreamUrl(feed),
    simulator: true,
  };
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Per symbol: stored minute bars of the day, and their receipts by path. */
export async function storedDay(pool: Pool) {
  const bars = await pool.query<{ symbol: string; n: string; first: Date; last: Date }>(
    `select symbol, count(*)::text as n, min(ts) as first, max(ts) as last from bars
      where timeframe = '1m' and ts >= $1 and ts < $2 group by symbol order by symbol`,
    [new Date(OPEN), new Date(CLOSE)],
  );
  const receipts = await pool.query<{ symbol: string; path: string; n: string }>(
    `select symbol, path, count(*)::text as n from bar_receipts where ts >= $1 and ts < $2
      group by symbol, path order by symbol, path`,
    [new Date(OPEN), new Date(CLOSE)],
  );
  return {
    bars: Object.fromEntries(bars.rows.map((r) => [r.symbol, Number(r.n)])),
    receipts: receipts.rows.map((r) => `${r.symbol}:${r.path}:${r.n}`),
  };
}

/** md5 over every stored bar of the day (values, not ingest time): equal to the venue's when all arrived intact. */
export async function dayChecksum(pool: Pool): Promise<string> {
  const r = await pool.query<{ md5: string | null }>(
    `select md5(string_agg(concat_ws('|', symbol, (extract(epoch from ts) * 1000)::bigint, open, high, low, close, volume), ','
            order by symbol, ts)) as md5
       from bars where timeframe = '1m' and ts >= $1 and ts < $2`,
    [new Date(OPEN), new Date(CLOSE)],
  );
  return r.rows[0]!.md5 ?? '';
}
