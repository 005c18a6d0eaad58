import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, streaming, trading } from '@alpacahq/alpaca-trade-api';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import type { TradingEvent } from '../../src/model/events';
import { startSimulatorServer, type SimulatorServer } from '../../src/execution/simulator/server';
import { OrderRejectedError, PermanentError, TemporaryError } from '../../src/model/errors';
import { syntheticDayBars } from '../support/sim-bars';

const KEY = 'PKTESTKEY0001';
const SECRET = 'sim-secret-value-0001';
const DATE = '2024-03-12';
const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(__dirname, '../fixtures/alpaca', name), 'utf8')) as unknown;

describe('Alpaca adapter (real SDK over HTTP) against the simulator', () => {
  let sim: SimulatorServer;
  let broker: AlpacaBroker;
  let times: number[];

  before(async () => {
    const bars = syntheticDayBars({ date: DATE, symbols: ['AAPL', 'MSFT'], minutes: 60 });
    sim = await startSimulatorServer({
      bars,
      keyId: KEY,
      secretKey: SECRET,
      startingCash: 100_000,
    });
    times = sim.replay.barTimes();
    sim.replay.advanceTo(times[0]!);
    broker = new AlpacaBroker({
      keyId: KEY,
      secret: SECRET,
      baseUrl: sim.url,
      dataBaseUrl: sim.dataUrl,
      streamUrl: sim.streamUrl,
      getRetries: 0,
      timeoutMs: 3_000,
    });
  });
  after(async () => {
    await broker.close();
    await sim.close();
  });

  test('when the simulator answers account, clock, calendar and positions, then the SDK parses them and the shapes match the fixtures', async () => {
    const account = await broker.getAccount();
    assert.equal(account.status, 'ACTIVE');
    assert.equal(account.cash, 100_000);
    const clock = await broker.getClock();
    assert.equal(clock.isOpen, true);
    assert.ok(clock.nextClose > clock.timestamp);
    const days = await broker.getCalendar('2024-03-11', '2024-03-17');
    assert.deepEqual(
      days.map((d) => d.date),
      ['2024-03-11', '2024-03-12', '2024-03-13', '2024-03-14', '2024-03-15'],
    );
    assert.deepEqual(await broker.getPositions(), []);
    // Wire shapes: every key Alpaca sends in the fixture is present in the simulator's payload.
    const raw = async (path: string) =>
      (
        await fetch(`${sim.url}${path}`, {
          headers: { 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET },
        })
      ).json();
    for (const [path, name] of [
      ['/v2/account', 'account.json'],
      ['/v2/clock', 'clock.json'],
    ] as const) {
      const body = (await raw(path)) as object;
      const missing = Object.keys(fixture(name) as object).filter((k) => !(k in body));
      assert.deepEqual(missing, [], `${path} lacks ${missing.join(', ')}`);
    }
    const cal = (await raw('/v2/calendar?start=2024-03-12&end=2024-03-12')) as object[];
    assert.deepEqual(
      Object.keys(cal[0]!).sort(),
      Object.keys((fixture('calendar.json') as object[])[0]!).sort(),
    );
  });

  test('when every order type is placed through the SDK and bars replay, then each fills or rests by Alpaca rules', async () => {
    const px = sim.exchange.priceOf('AAPL')!;
    const events: TradingEvent[] = [];
    const sub = await broker.subscribeOrderEvents((e) => events.push(e));
    const t0 = times[0]!;
    const id = (k: string) => `s1:${t0}:AAPL:${k}`;
    const market = await broker.submitOrder({
      clientOrderId: id('m'),
      symbol: 'AAPL',
      side: 'buy',
      qty: 10,
      type: 'market',
      timeInForce: 'day',
    });
    const limitFar = await broker.submitOrder({
      clientOrderId: id('lf'),
      symbol: 'AAPL',
      side: 'buy',
      qty: 1,
      type: 'limit',
      limitPrice: px * 0.5,
      timeInForce: 'day',
    });
    const limitNear = await broker.submitOrder({
      clientOrderId: id('ln'),
      symbol: 'AAPL',
      side: 'buy',
      qty: 2,
      type: 'limit',
      limitPrice: px * 1.05,
      timeInForce: 'gtc',
    });
    const stop = await broker.submitOrder({
      clientOrderId: id('st'),
      symbol: 'AAPL',
      side: 'sell',
      qty: 1,
      type: 'stop',
      stopPrice: px * 0.5,
      timeInForce: 'day',
    });
    const stopHit = await broker.submitOrder({
      clientOrderId: id('sh'),
      symbol: 'AAPL',
      side: 'sell',
      qty: 1,
      type: 'stop',
      stopPrice: px * 1.5,
      timeInForce: 'day',
    });
    const stopLimit = await broker.submitOrder({
      clientOrderId: id('sl'),
      symbol: 'AAPL',
      side: 'buy',
      qty: 1,
      type: 'stop_limit',
      stopPrice: px * 0.9,
      limitPrice: px * 0.95,
      timeInForce: 'day',
    });
    const trailing = await broker.submitOrder({
      clientOrderId: id('tr'),
      symbol: 'AAPL',
      side: 'sell',
      qty: 1,
      type: 'trailing_stop',
      trailPercent: 50,
      timeInForce: 'gtc',
    });
    const bracket = await broker.submitOrder({
      clientOrderId: id('br'),
      symbol: 'AAPL',
      side: 'buy',
      qty: 3,
      type: 'market',
      timeInForce: 'gtc',
      orderClass: 'bracket',
      takeProfit: { limitPrice: px * 1.5 },
      stopLoss: { stopPrice: px * 0.5 },
    });
    const oto = await broker.submitOrder({
      clientOrderId: id('oto'),
      symbol: 'MSFT',
      side: 'buy',
      qty: 1,
      type: 'market',
      timeInForce: 'gtc',
      orderClass: 'oto',
      stopLoss: { stopPrice: 1 },
    });
    // Before the next bar nothing fills: orders fill no earlier than the bar after submission.
    assert.equal((await broker.getOrderByClientOrderId(id('m')))!.status, 'new');
    sim.replay.advanceTo(times[1]!);
    const get = async (k: string) => (await broker.getOrderByClientOrderId(id(k)))!;
    assert.equal((await get('m')).status, 'filled');
    assert.equal((await get('m')).filledQty, 10);
    assert.equal((await get('lf')).status, 'new', 'a limit far below the market rests');
    assert.equal((await get('ln')).status, 'filled', 'a marketable limit fills');
    assert.equal((await get('st')).status, 'new', 'a far stop does not trigger');
    assert.equal((await get('sh')).status, 'filled', 'a sell stop above the market triggers at the open');
    assert.equal((await get('tr')).status, 'new', 'a 50% trailing stop does not trigger');
    const br = await get('br');
    assert.equal(br.status, 'filled');
    assert.equal(br.orderClass, 'bracket');
    assert.equal(br.legs?.length, 2);
    assert.deepEqual(br.legs!.map((l) => [l.type, l.side, l.status]).sort(), [
      ['limit', 'sell', 'new'],
      ['stop', 'sell', 'new'],
    ]);
    const otoNow = await get('oto');
    assert.equal(otoNow.status, 'filled');
    assert.deepEqual(
      otoNow.legs!.map((l) => [l.type, l.side, l.status]),
      [['stop', 'sell', 'new']],
    );
    // Cancel: a resting order goes to canceled; cancelling twice is harmless.
    await broker.cancelOrder(limitFar.order.id);
    await broker.cancelOrder(limitFar.order.id);
    assert.equal((await get('lf')).status, 'canceled');
    const open = await broker.listOrders({ status: 'open' });
    assert.ok(
      open.some((o) => o.clientOrderId === id('br')),
      'the bracket stays open while its legs rest',
    );
    const positions = await broker.getPositions();
    assert.equal(positions.find((p) => p.symbol === 'AAPL')!.qty, 10 + 2 + 3 - 1);
    assert.equal(positions.find((p) => p.symbol === 'MSFT')!.qty, 1);
    // Close a position: a market order flattens it on the next bar.
    const closing = await broker.closePosition('MSFT');
    assert.equal(closing?.side, 'sell');
    sim.replay.advanceTo(times[2]!);
    assert.equal(
      (await broker.getPositions()).find((p) => p.symbol === 'MSFT'),
      undefined,
    );
    // Trade updates arrived over the WebSocket and the adapter mapped them to the model's order events.
    await waitFor(() => events.some((e) => e.type === 'OrderFilled' && e.clientOrderId === id('m')));
    const filled = events.find((e) => e.type === 'OrderFilled' && e.clientOrderId === id('m'));
    assert.ok(filled && filled.type === 'OrderFilled');
    assert.equal(filled.fill.qty, 10);
    assert.equal(filled.fill.side, 'buy');
    assert.ok(filled.fill.price > 0);
    assert.equal(filled.order.status, 'filled');
    assert.equal(filled.ts, times[1]);
    assert.ok(filled.receivedTs > 0 && filled.eventId.startsWith('alpaca:'));
    assert.ok(events.some((e) => e.type === 'OrderAccepted' && e.clientOrderId === id('lf')));
    assert.ok(events.some((e) => e.type === 'OrderCanceled' && e.clientOrderId === id('lf')));
    assert.deepEqual(
      events.filter((e) => e.type === 'OrderRejected'),
      [],
      'a refused order is never streamed',
    );
    await sub.close();
    for (const o of [market, stop, stopHit, stopLimit, trailing, bracket, oto, limitNear])
      assert.equal(o.alreadyExisted, false);
  });

  test('when the same client order id is submitted twice, then the second is a success without a second order', async () => {
    const cid = `dup:${times[2]}:AAPL:0`;
    const first = await broker.submitOrder({
      clientOrderId: cid,
      symbol: 'AAPL',
      side: 'buy',
      qty: 1,
      type: 'market',
      timeInForce: 'day',
    });
    const second = await broker.submitOrder({
      clientOrderId: cid,
      symbol: 'AAPL',
      side: 'buy',
      qty: 1,
      type: 'market',
      timeInForce: 'day',
    });
    assert.equal(first.alreadyExisted, false);
    assert.equal(second.alreadyExisted, true);
    assert.equal(second.order.id, first.order.id);
    assert.equal(sim.exchange.acceptedClientOrderIds().filter((c) => c === cid).length, 1);
    // The raw SDK sees Alpaca's 422 for a reused id (the adapter turns it into success).
    const orders = new trading.OrdersApi(
      new trading.Configuration({ basePath: sim.url, keyId: KEY, secret: SECRET }),
    );
    await assert.rejects(
      orders.postOrder({
        postOrderRequest: {
          symbol: 'AAPL',
          side: 'buy',
          type: 'market',
          timeInForce: 'day',
          qty: '1',
          clientOrderId: cid,
        } as trading.PostOrderRequest,
      }),
      (e: unknown) =>
        e instanceof ApiError &&
        e.status === 422 &&
        e.code === (fixture('error_duplicate_client_order_id.json') as { code: number }).code,
    );
  });

  test('when responses are lost after the order took effect, then retrying the submit still places exactly one order', async () => {
    sim.setFaults({ errorRate: 0.5, dropRate: 0.2, failAfterEffectShare: 1, seed: 42 });
    const cids: string[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        const cid = `lost:${times[2]}:MSFT:${i}`;
        cids.push(cid);
        for (let attempt = 0; ; attempt++) {
          try {
            await broker.submitOrder({
              clientOrderId: cid,
              symbol: 'MSFT',
              side: 'buy',
              qty: 1,
              type: 'limit',
              limitPrice: 1,
              timeInForce: 'day',
            });
            break;
          } catch (e) {
            assert.ok(
              e instanceof TemporaryError,
              `only temporary errors under 5xx/429/drops, got ${String(e)}`,
            );
            assert.ok(attempt < 50, 'gave up');
          }
        }
      }
    } finally {
      sim.setFaults({});
    }
    assert.ok(sim.stats.faulted + sim.stats.dropped > 0, 'faults were injected');
    const accepted = sim.exchange.acceptedClientOrderIds().filter((c) => c.startsWith('lost:'));
    assert.deepEqual([...accepted].sort(), [...cids].sort(), 'each id placed exactly once');
  });

  test('when the broker refuses or the network fails, then errors map to rejected / permanent / temporary', async () => {
    await assert.rejects(
      broker.submitOrder({
        clientOrderId: `bp:${times[2]}:AAPL:0`,
        symbol: 'AAPL',
        side: 'buy',
        qty: 1_000_000,
        type: 'market',
        timeInForce: 'day',
      }),
      (e: unknown) =>
        e instanceof OrderRejectedError && e.retryable === false && /buying power/.test(e.message),
    );
    await assert.rejects(
      broker.submitOrder({
        clientOrderId: `val:${times[2]}:AAPL:0`,
        symbol: 'ZZZZ',
        side: 'buy',
        qty: 1,
        type: 'market',
        timeInForce: 'day',
      }),
      (e: unknown) => e instanceof OrderRejectedError && e.reason === 'validation',
    );
    const wrongKey = new AlpacaBroker({
      keyId: KEY,
      secret: 'wrong',
      baseUrl: sim.url,
      getRetries: 0,
      timeoutMs: 3_000,
    });
    await assert.rejects(
      wrongKey.getAccount(),
      (e: unknown) => e instanceof PermanentError && e.retryable === false && /401/.test(e.message),
    );
    sim.setFaults({ errorRate: 1, seed: 3 });
    try {
      await assert.rejects(broker.getPositions(), (e: unknown) => e instanceof TemporaryError && e.retryable);
    } finally {
      sim.setFaults({});
    }
    const down = new AlpacaBroker({
      keyId: KEY,
      secret: SECRET,
      baseUrl: 'http://127.0.0.1:9',
      getRetries: 0,
      timeoutMs: 3_000,
    });
    await assert.rejects(
      down.getAccount(),
      (e: unknown) => e instanceof TemporaryError && /network/.test(e.message),
    );
  });

  test('when bars replay, then the data API and the SDK market-data stream serve only closed bars', async () => {
    const bars = await broker.getBars(['AAPL', 'MSFT'], times[0]!, times[times.length - 1]!);
    assert.ok(bars.length > 0);
    assert.ok(
      bars.every((b) => b.ts <= sim.replay.watermark),
      'no bar from the future',
    );
    const stream = new streaming.StockDataStream({
      credentials: { keyId: KEY, secret: SECRET },
      url: sim.marketDataStreamUrl('iex'),
      feed: 'iex',
    } as ConstructorParameters<typeof streaming.StockDataStream>[0]);
    const got: string[] = [];
    stream.onBar((b: { symbol: string }) => got.push(b.symbol));
    stream.onConnect(() => stream.subscribeForBars(['AAPL']));
    stream.connect();
    assert.equal((await stream.whenAuthenticated()).authenticated, true);
    await new Promise((r) => setTimeout(r, 100));
    sim.replay.advanceTo(times[4]!);
    await waitFor(() => got.length >= 2);
    stream.disconnect();
    assert.ok(got.every((s) => s === 'AAPL'));
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
