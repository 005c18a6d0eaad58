import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SimBroker } from '../../../src/execution/sim-broker';
import { regulatoryFeesFor, fillModelConfig, takerPrice } from '../../../src/execution/fill-models';
import { canTransition, transition, InvalidOrderTransitionError } from '../../../src/model/order';
import type { Bar } from '../../../src/model/bar';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 4, 14, 30); // 09:30 New York
const bar = (i: number, o: number, h: number, l: number, c: number, v = 1_000_000, symbol = 'SPY'): Bar => ({
  symbol,
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

describe('SimBroker', () => {
  test('when a market order is submitted at a bar close, then it fills at the next bar open, never on the bar it saw', () => {
    const b = new SimBroker({ startingCash: 100_000, fill: noCosts });
    b.onBar(bar(0, 100, 101, 99, 100.5));
    const { order } = b.submit(
      { clientOrderId: 'c1', symbol: 'SPY', side: 'buy', qty: 10, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    assert.equal(order.status, 'new');
    const ev = b.onBar(bar(1, 102, 103, 101, 102.5));
    const filled = ev.find((e) => e.type === 'OrderFilled');
    assert.ok(filled && filled.type === 'OrderFilled');
    assert.equal(filled.fill.price, 102);
    assert.equal(b.positionQty('SPY'), 10);
    assert.equal(b.account().cash, 100_000 - 1020);
  });

  test('when an order arrives mid-bar, then that bar cannot fill it', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 101, 99, 100));
    b.submit(
      { clientOrderId: 'c1', symbol: 'SPY', side: 'buy', qty: 1, type: 'market', timeInForce: 'gtc' },
      T0 + MIN + 30_000,
    );
    assert.equal(b.onBar(bar(1, 100, 101, 99, 100)).length, 0);
    assert.equal(b.onBar(bar(2, 104, 105, 103, 104)).filter((e) => e.type === 'OrderFilled').length, 1);
  });

  test('when costs are on, then a buy pays spread and square-root impact and a sell pays SEC and FINRA fees', () => {
    const cfg = fillModelConfig({});
    const t = takerPrice(cfg, 'buy', 100, 10_000, 1_000_000, 0.001, undefined, 0);
    // half spread max(1bp, 0.25*0.001) = 2.5bp; impact 0.5*0.001*sqrt(0.01) = 0.5bp
    assert.ok(Math.abs(t.price - 100 * (1 + 0.00025 + 0.00005)) < 1e-9);
    assert.equal(regulatoryFeesFor(cfg, 'buy', 100, 100), 0);
    // 10,000 proceeds × 27.8e-6 = 0.278 → 0.28; TAF 100 × 0.000166 = 0.0166 → 0.02
    assert.equal(regulatoryFeesFor(cfg, 'sell', 100, 100), 0.28 + 0.02);
    // TAF is capped per trade
    assert.equal(regulatoryFeesFor(cfg, 'sell', 1_000_000, 1) - Math.ceil(27.8e-6 * 1e6 * 100) / 100, 8.3);
  });

  test('when a quote is present, then the spread comes from the quote', () => {
    const cfg = fillModelConfig({ impactCoefficient: 0 });
    const t = takerPrice(
      cfg,
      'sell',
      100,
      1,
      1e6,
      0.01,
      { symbol: 'SPY', ts: 0, bid: 99.9, ask: 100.1, bidSize: 1, askSize: 1 },
      1000,
    );
    assert.ok(Math.abs(t.price - 100 * (1 - 0.1 / 100)) < 1e-9);
  });

  test('when an order exceeds the participation cap, then it fills partially across bars', () => {
    const b = new SimBroker({ startingCash: 1e7, fill: { ...noCosts, maxParticipation: 0.1 } });
    b.onBar(bar(0, 100, 100, 100, 100, 1000));
    b.submit(
      { clientOrderId: 'c1', symbol: 'SPY', side: 'buy', qty: 250, type: 'market', timeInForce: 'gtc' },
      T0 + MIN,
    );
    const e1 = b.onBar(bar(1, 100, 100, 100, 100, 1000));
    assert.deepEqual(
      e1.map((e) => e.type),
      ['OrderPartiallyFilled'],
    );
    b.onBar(bar(2, 100, 100, 100, 100, 1000));
    const e3 = b.onBar(bar(3, 100, 100, 100, 100, 1000));
    assert.deepEqual(
      e3.map((e) => e.type),
      ['OrderFilled'],
    );
    assert.equal(b.getOrderByClientId('c1')!.filledQty, 250);
  });

  test('when a limit is not traded through, then it does not fill; when it is, then it fills at the limit', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      {
        clientOrderId: 'l1',
        symbol: 'SPY',
        side: 'buy',
        qty: 5,
        type: 'limit',
        limitPrice: 99,
        timeInForce: 'gtc',
      },
      T0 + MIN,
    );
    assert.equal(b.onBar(bar(1, 100, 100.5, 99, 99.5)).length, 0); // touched, not through
    const e = b.onBar(bar(2, 99.5, 99.6, 98.5, 99));
    const f = e.find((x) => x.type === 'OrderFilled');
    assert.ok(f && f.type === 'OrderFilled' && f.fill.price === 99);
  });

  test('when a bracket entry fills and the take profit is hit, then the stop leg is canceled', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      {
        clientOrderId: 'b1',
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
    b.onBar(bar(1, 100, 106, 99, 100)); // entry fills; legs work only from the next bar
    assert.equal(b.positionQty('SPY'), 10);
    const ev = b.onBar(bar(2, 104, 106, 103, 105.5));
    assert.deepEqual(
      ev.map((e) => e.type),
      ['OrderFilled', 'OrderCanceled'],
    );
    assert.equal(b.positionQty('SPY'), 0);
    assert.equal(b.getOrderByClientId('b1:sl')!.status, 'canceled');
    assert.equal(b.account().cash, 100_000 + 50);
  });

  test('when a trailing stop is followed by a rally and a drop, then it exits at mark minus trail', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      { clientOrderId: 'e', symbol: 'SPY', side: 'buy', qty: 1, type: 'market', timeInForce: 'gtc' },
      T0 + MIN,
    );
    b.onBar(bar(1, 100, 100, 100, 100));
    b.submit(
      {
        clientOrderId: 't',
        symbol: 'SPY',
        side: 'sell',
        qty: 1,
        type: 'trailing_stop',
        trailPrice: 2,
        timeInForce: 'gtc',
      },
      T0 + 2 * MIN,
    );
    b.onBar(bar(2, 100, 110, 100, 109));
    const ev = b.onBar(bar(3, 109, 109, 100, 101));
    const f = ev.find((e) => e.type === 'OrderFilled');
    assert.ok(f && f.type === 'OrderFilled');
    assert.equal(f.fill.price, 108);
  });

  test('when buying power, symbol or trading status forbid an order, then it is rejected with the reason', () => {
    const b = new SimBroker({ startingCash: 1000, fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    const big = b.submit(
      { clientOrderId: 'x1', symbol: 'SPY', side: 'buy', qty: 11, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    assert.equal(big.order.status, 'rejected');
    assert.match(big.order.rejectReason!, /buying power/);
    const unk = b.submit(
      { clientOrderId: 'x2', symbol: 'ZZZ', side: 'buy', qty: 1, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    assert.match(unk.order.rejectReason!, /unknown/);
    b.setHalted('SPY', true);
    const h = b.submit(
      { clientOrderId: 'x3', symbol: 'SPY', side: 'buy', qty: 1, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    assert.match(h.order.rejectReason!, /halted/);
    assert.ok(big.events.some((e) => e.type === 'OrderRejected'));
  });

  test('when the same client order id is submitted twice, then the second is a no-op that reports the first', () => {
    const b = new SimBroker({ fill: noCosts });
    b.onBar(bar(0, 100, 100, 100, 100));
    const a = b.submit(
      { clientOrderId: 'dup', symbol: 'SPY', side: 'buy', qty: 1, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    const c = b.submit(
      { clientOrderId: 'dup', symbol: 'SPY', side: 'buy', qty: 1, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    assert.equal(c.alreadyExisted, true);
    assert.equal(c.order.id, a.order.id);
    assert.equal(b.listOrders('open').length, 1);
  });

  test('when a short is held, then borrow fees accrue; a day order expires at the next session', () => {
    const b = new SimBroker({
      startingCash: 100_000,
      marginMultiplier: 2,
      fill: { ...noCosts, borrowAnnualRate: 0.365 },
    });
    b.onBar(bar(0, 100, 100, 100, 100));
    b.submit(
      { clientOrderId: 's', symbol: 'SPY', side: 'sell', qty: 100, type: 'market', timeInForce: 'day' },
      T0 + MIN,
    );
    b.onBar(bar(1, 100, 100, 100, 100));
    const ev = b.onBar({ ...bar(2, 100, 100, 100, 100), ts: T0 + 2 * MIN + 86_400_000 });
    const fee = ev.find((e) => e.type === 'BorrowFeeCharged');
    assert.ok(fee && fee.type === 'BorrowFeeCharged');
    assert.ok(Math.abs(fee.amount - ((10_000 * 0.365) / 365) * (1 + 1 / 1440)) < 1e-6); // from the end of the previous charge (bar 1) to this bar's end
    b.submit(
      {
        clientOrderId: 'd',
        symbol: 'SPY',
        side: 'buy',
        qty: 1,
        type: 'limit',
        limitPrice: 1,
        timeInForce: 'day',
      },
      T0 + 3 * MIN + 86_400_000,
    );
    const ex = b.onBar({ ...bar(3, 100, 100, 100, 100), ts: T0 + 2 * 86_400_000 });
    assert.ok(ex.some((e) => e.type === 'OrderExpired'));
  });

  test('when a filled order is moved to canceled, then the transition table refuses', () => {
    assert.equal(canTransition('new', 'filled'), true);
    assert.equal(canTransition('filled', 'canceled'), false);
    assert.throws(() => transition('o1', 'filled', 'canceled'), InvalidOrderTransitionError);
    assert.throws(() => transition('o1', 'rejected', 'new'), /cannot move from rejected to new/);
  });
});
