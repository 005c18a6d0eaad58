import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaMarketData } from '../../src/data/alpaca';
import { AlpacaMarketStream } from '../../src/data/alpaca-stream';
import type { TradePrint } from '../../src/data/tick-store';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { startSimulatorServer, type SimulatorServer } from '../../src/execution/simulator/server';
import type { Bar, Quote } from '../../src/model/bar';
import { syntheticDayBars } from '../support/sim-bars';

const DAY = '2024-03-12';
const { open: OPEN } = sessionBounds(DAY);
const KEY = 'PKCLOCK';
const SECRET = 'clock-secret';
const SYMBOLS = ['MSFT', 'AAPL', 'NVDA'];
const MINUTES = 10;

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setClock(sim: SimulatorServer, body: Record<string, unknown>) {
  const res = await fetch(`${sim.url}/sim/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { now: number; isOpen: boolean; date: string; speed: number };
}

void describe('the simulator as a venue on its own clock (real SDK over HTTP and WebSocket)', () => {
  let sim: SimulatorServer;
  const bars: Bar[] = syntheticDayBars({ date: DAY, symbols: SYMBOLS, minutes: MINUTES, seed: 3 });
  const quotes: Quote[] = bars
    .filter((b) => b.symbol === 'AAPL')
    .map((b) => ({
      symbol: 'AAPL',
      ts: b.ts + 30_000,
      bid: b.close - 0.01,
      ask: b.close + 0.01,
      bidSize: 1,
      askSize: 2,
    }));
  const trades: TradePrint[] = bars
    .filter((b) => b.symbol === 'AAPL')
    .map((b, i) => ({
      symbol: 'AAPL',
      ts: b.ts + 15_000,
      price: b.open,
      size: 10,
      exchange: 'V',
      id: String(i + 1),
    }));
  const broker = () =>
    new AlpacaBroker({ keyId: KEY, secret: SECRET, baseUrl: sim.url, dataBaseUrl: sim.dataUrl });
  const data = (pageLimit?: number) =>
    new AlpacaMarketData({
      keyId: KEY,
      secret: SECRET,
      dataBaseUrl: sim.dataUrl,
      ...(pageLimit ? { pageLimit } : {}),
    });
  const fetchAll = async (symbol: string, pageLimit?: number) => {
    const out: Bar[] = [];
    for await (const p of data(pageLimit).fetchBars({
      symbol,
      timeframe: '1m',
      fromMs: OPEN - 3_600_000,
      toMs: OPEN + 86_400_000,
    }))
      out.push(...p.bars);
    return out;
  };

  before(async () => {
    sim = await startSimulatorServer({
      bars,
      quotes,
      trades,
      keyId: KEY,
      secretKey: SECRET,
      startAt: OPEN - 60_000,
    });
  });
  after(async () => sim?.close());

  void test('when the clock stands before the open, then /v2/clock reports the simulated day as closed with its next open, and no bar is visible', async () => {
    const c = await broker().getClock();
    assert.equal(c.timestamp, OPEN - 60_000);
    assert.equal(c.isOpen, false);
    assert.equal(c.nextOpen, OPEN);
    assert.deepEqual(await fetchAll('AAPL'), []);
  });

  void test('when the clock passes m + 1 minute, then the bar of minute m is published, and not before', async () => {
    await setClock(sim, { until: OPEN + 119_000 });
    assert.deepEqual(
      (await fetchAll('AAPL')).map((b) => b.ts),
      [OPEN],
      'at 09:31:59 only the 09:30 bar has closed',
    );
    const view = await setClock(sim, { until: OPEN + 120_000 });
    assert.equal(view.date, DAY);
    assert.equal(view.isOpen, true);
    assert.deepEqual(
      (await fetchAll('AAPL')).map((b) => b.ts),
      [OPEN, OPEN + 60_000],
    );
    const c = await broker().getClock();
    assert.equal(c.timestamp, OPEN + 120_000);
    assert.equal(c.isOpen, true);
  });

  void test('when an order is sent while a minute forms, then it fills when the clock closes that minute (the fills run on the same clock)', async () => {
    const b = broker();
    const res = await fetch(`${sim.url}/v2/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET },
      body: JSON.stringify({
        client_order_id: 'clock-1',
        symbol: 'MSFT',
        side: 'buy',
        qty: '1',
        type: 'market',
        time_in_force: 'day',
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const placed = (await res.json()) as { status: string };
    assert.notEqual(placed.status, 'filled');
    await setClock(sim, { until: OPEN + 179_000 });
    assert.notEqual(
      (await b.getOrderByClientOrderId('clock-1'))!.status,
      'filled',
      'the minute has not closed',
    );
    await setClock(sim, { until: OPEN + 180_000 });
    const filled = (await b.getOrderByClientOrderId('clock-1'))!;
    assert.equal(filled.status, 'filled');
    const msft = bars.find((x) => x.symbol === 'MSFT' && x.ts === OPEN + 120_000)!;
    assert.ok(
      filled.filledAvgPrice! >= msft.low && filled.filledAvgPrice! <= msft.high * 1.01,
      `filled within the 09:32 bar (${filled.filledAvgPrice} vs ${msft.low}..${msft.high})`,
    );
  });

  void test('when history is read in small pages, then the SDK follows next_page_token to the same bars, quotes and trades', async () => {
    const all = await fetchAll('NVDA');
    assert.deepEqual(
      (await fetchAll('NVDA', 1)).map((b) => b.ts),
      all.map((b) => b.ts),
    );
    const res = await fetch(`${sim.dataUrl}/v2/stocks/bars?symbols=NVDA,AAPL,MSFT&timeframe=1Min&limit=4`, {
      headers: { 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET },
    });
    const page = (await res.json()) as { bars: Record<string, unknown[]>; next_page_token: string | null };
    assert.deepEqual(Object.keys(page.bars), ['AAPL', 'MSFT'], 'symbol order, then time, up to the limit');
    assert.ok(page.next_page_token);
    const q: Quote[] = [];
    for await (const p of data(2).fetchQuotes('AAPL', OPEN, OPEN + 86_400_000)) q.push(...p.quotes);
    assert.deepEqual(
      q.map((x) => x.ts),
      quotes.filter((x) => x.ts <= sim.replay.now()).map((x) => x.ts),
      'quotes up to the clock',
    );
    const t: TradePrint[] = [];
    for await (const p of data(2).fetchTrades('AAPL', OPEN, OPEN + 86_400_000)) t.push(...p.trades);
    assert.deepEqual(
      t.map((x) => [x.ts, x.id, x.exchange]),
      trades.filter((x) => x.ts <= sim.replay.now()).map((x) => [x.ts, x.id, x.exchange]),
    );
  });

  void test('when the clock runs at 600x, then the SDK stream delivers each bar after its close in order, and a dropped connection is re-subscribed', async () => {
    const stream = new AlpacaMarketStream({
      keyId: KEY,
      secret: SECRET,
      url: sim.marketDataStreamUrl('iex'),
      initialReconnectMs: 50,
    });
    const got: Array<{ bar: Bar; clockAt: number }> = [];
    const gotQuotes: Quote[] = [];
    const gotTrades: TradePrint[] = [];
    let acks = 0;
    await stream.start(
      { bars: ['AAPL'], quotes: ['AAPL'], trades: ['AAPL'] },
      {
        onBar: (bar) => got.push({ bar, clockAt: sim.replay.now() }),
        onQuote: (x) => gotQuotes.push(x),
        onTrade: (x) => gotTrades.push(x),
        onSubscribed: () => acks++,
      },
    );
    try {
      await waitFor('the subscription', () => acks === 1);
      await setClock(sim, { speed: 600 });
      await waitFor('the 09:36 bar', () => got.some((g) => g.bar.ts === OPEN + 6 * 60_000));
      const res = await fetch(`${sim.url}/sim/drop-streams`, { method: 'POST' });
      assert.ok(((await res.json()) as { dropped: number }).dropped >= 1);
      await waitFor('the re-subscription', () => acks === 2);
      await waitFor('the last bar', () => got.some((g) => g.bar.ts === OPEN + (MINUTES - 1) * 60_000));
      const seen = got.map((g) => g.bar.ts);
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        'in time order',
      );
      for (const g of got) assert.ok(g.clockAt >= g.bar.ts + 60_000, 'never before the bar closed');
      assert.ok(seen.includes(OPEN + (MINUTES - 1) * 60_000));
      assert.ok(gotQuotes.length > 0 && gotQuotes.every((x) => x.symbol === 'AAPL'));
      assert.ok(gotTrades.length > 0 && gotTrades.every((x) => x.exchange === 'V' && x.id));
    } finally {
      stream.stop();
      await setClock(sim, { speed: 0 });
    }
  });
});
