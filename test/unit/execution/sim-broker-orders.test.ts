import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SimBroker, SimBrokerError } from '../../../src/execution/sim-broker';
import type { TradingEvent } from '../../../src/model/events';
import { alpacaEventName } from '../../../src/execution/simulator/wire';
import type { Bar } from '../../../src/model/bar';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 5, 14, 30);
const bar = (i: number, o: number, h: number, l: number, c: number, v = 1_000_000): Bar => ({
  symbol: 'SPY',
  timeframe: '1m',
  ts: T0 + i * MIN,
  open: o,
  high: h,
  low: l,
  close: c,
  volume: v,
});
const noCosts = {
  minHalfSpreadBps: 0,
  spreadVolMultiplier: 0,
  impactCoefficient: 0,
  commission: { perShare: 0, minPerOrder: 0, maxFractionOfNotional: 0 },
  secFeeRate: 0,
  finraTafPerShare: 0,
  maxParticipation: 0,
};

describe('SimBroker order types', () => {
  test('when an OCO pair brackets a long, then the stop side executing cancels the take profit', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      { clientOrderId: 'e', symbol: 'SPY', side: 'buy', qty: 10, type: 'market', timeInForce: 'gtc' },
      T0 + MIN,
    );
    b.onBar(bar(1, 100, 100, 100, 100));
    const oco = b.submit(
      {
        clientOrderId: 'x',
        symbol: 'SPY',
        side: 'sell',
        qty: 10,
        type: 'limit',
        timeInForce: 'gtc',
        orderClass: 'oco',
        takeProfit: { limitPrice: 110 },
        stopLoss: { stopPrice: 95 },
      },
      T0 + 2 * MIN,
    );
    assert.equal(oco.order.limitPrice, 110);
    const ev = b.onBar(bar(2, 99, 99, 94, 94.5));
    assert.deepEqual(
      ev.map((e) => e.type),
      ['OrderTriggered', 'OrderFilled', 'OrderCanceled'],
    );
    assert.equal(b.getOrderByClientId('x')!.status, 'canceled');
    assert.equal(b.positionQty('SPY'), 0);
  });

  test('when a stop-limit triggers but the market gaps through the limit, then it rests instead of filling worse', () => {
    const b = new SimBroker({ fill: noCosts, startingCash: 1e6 });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      {
        clientOrderId: 'sl',
        symbol: 'SPY',
        side: 'buy',
        qty: 5,
        type: 'stop_limit',
        stopPrice: 101,
        limitPrice: 101.5,
        timeInForce: 'gtc',
      },
      T0 + MIN,
    );
    const e1 = b.onBar(bar(1, 103, 104, 102, 103)); // gap over the stop and the limit
    assert.deepEqual(
      e1.map((e) => e.type),
      ['OrderTriggered'],
    );
    const e2 = b.onBar(bar(2, 102, 102, 101, 101.2));
    const f = e2.find((e) => e.type === 'OrderFilled');
    assert.ok(f && f.type === 'OrderFilled' && f.fill.price === 101.5);
  });

  test('when IOC or FOK cannot fill on the first eligible bar, then they are canceled', () => {
    const b = new SimBroker({ fill: { ...noCosts, maxParticipation: 0.1 }, startingCash: 1e6 });
    b.onBar(bar(0, 100, 100, 100, 100, 1000));
    b.submit(
      { clientOrderId: 'ioc', symbol: 'SPY', side: 'buy', qty: 250, type: 'market', timeInForce: 'ioc' },
      T0 + MIN,
    );
    b.submit(
      { clientOrderId: 'fok', symbol: 'SPY', side: 'buy', qty: 250, type: 'market', timeInForce: 'fok' },
      T0 + MIN,
    );
    b.onBar(bar(1, 100, 100, 100, 100, 1000));
    const ioc = b.getOrderByClientId('ioc')!;
    assert.deepEqual([ioc.status, ioc.filledQty], ['canceled', 100]);
    const fok = b.getOrderByClientId('fok')!;
    assert.deepEqual([fok.status, fok.filledQty], ['canceled', 0]);
  });

  test('when a working limit is replaced, then the old order is replaced and the new one fills at the new price', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    const first = b.submit(
      {
        clientOrderId: 'l',
        symbol: 'SPY',
        side: 'buy',
        qty: 3,
        type: 'limit',
        limitPrice: 90,
        timeInForce: 'gtc',
      },
      T0 + MIN,
    );
    const rep = b.replace(first.order.id, { limitPrice: 99.5, clientOrderId: 'l2' }, T0 + MIN);
    assert.equal(b.getOrder(first.order.id)!.status, 'replaced');
    assert.ok(rep.events.some((e) => e.type === 'OrderReplaced'));
    const ev = b.onBar(bar(1, 100, 100, 99, 99.8));
    const f = ev.find((e) => e.type === 'OrderFilled');
    assert.ok(f && f.type === 'OrderFilled' && f.clientOrderId === 'l2' && f.fill.price === 99.5);
    assert.throws(() => b.cancel(first.order.id, T0 + 2 * MIN), SimBrokerError);
  });

  test('when latency is set, then events are received later and subscribers see the Alpaca event names', () => {
    const b = new SimBroker({ fill: { ...noCosts, latencyMs: 250 } });
    const seen: TradingEvent[] = [];
    const off = b.subscribe((e) => seen.push(e));
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      { clientOrderId: 'm', symbol: 'SPY', side: 'buy', qty: 1, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    b.onBar(bar(1, 100, 100, 100, 100));
    off();
    assert.deepEqual(seen.map(alpacaEventName).filter(Boolean), ['new', 'fill']);
    for (const e of seen) assert.equal(e.receivedTs - e.ts, 250);
    assert.equal(new Set(seen.map((e) => e.eventId)).size, seen.length);
  });

  test('when open orders would spend the same buying power twice, then the second is rejected', () => {
    const b = new SimBroker({ fill: noCosts, startingCash: 1500 });
    b.onBar(bar(0, 100, 100, 100, 100));
    assert.equal(
      b.submit(
        { clientOrderId: 'a', symbol: 'SPY', side: 'buy', qty: 10, type: 'market', timeInForce: 'day' },
        T0 + MIN,
      ).order.status,
      'new',
    );
    const second = b.submit(
      { clientOrderId: 'b', symbol: 'SPY', side: 'buy', qty: 10, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    assert.equal(second.order.status, 'rejected');
    // selling what is not held opens a short: a cash account has no buying power left for it
    assert.equal(
      b.submit(
        { clientOrderId: 'c', symbol: 'SPY', side: 'sell', qty: 20, type: 'market', timeInForce: 'day' },
        T0 + MIN,
      ).order.status,
      'rejected',
    );
  });
});

describe('SimBroker intrabar ambiguity', () => {
  test('when one bar touches both the take profit and the stop of a bracket, then the stop fills', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      {
        clientOrderId: 'b',
        symbol: 'SPY',
        side: 'buy',
        qty: 10,
        type: 'market',
        timeInForce: 'gtc',
        orderClass: 'bracket',
        takeProfit: { limitPrice: 105 },
        stopLoss: { stopPrice: 95 },
      },
      T0 + MIN,
    );
    b.onBar(bar(1, 100, 100, 100, 100));
    b.onBar(bar(2, 100, 106, 94, 100));
    assert.equal(b.getOrderByClientId('b:sl')!.status, 'filled');
    assert.equal(b.getOrderByClientId('b:tp')!.status, 'canceled');
  });
});
