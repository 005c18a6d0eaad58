/**
 * Alpaca's wire shapes ↔ the model: an Alpaca trade update becomes the model's order event, an Alpaca order the
 * model's Order and an Alpaca position a Holding — from canned payloads (test/fixtures/alpaca) and round trips
 * through what the simulator sends.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SimBroker } from '../../../src/execution/sim-broker';
import {
  orderEventFromWire,
  orderFromWire,
  orderSpecFromWire,
  orderToWire,
  positionFromWire,
  positionToWire,
  tradeUpdateToWire,
} from '../../../src/execution/simulator/wire';
import type { OrderEvent } from '../../../src/model/events';
import type { Order } from '../../../src/model/order';
import { marketValue, unrealizedPnl } from '../../../src/model/position';

const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(__dirname, '../../fixtures/alpaca', name), 'utf8')) as Record<string, any>;

describe('Alpaca wire mapping', () => {
  test("when Alpaca's canned fill update arrives, then it is the model's OrderFilled with the fill and position", () => {
    const u = fixture('trade_update.json').data as Record<string, any>;
    const e = orderEventFromWire(u, 1_700_000_000_000);
    assert.ok(e && e.type === 'OrderFilled');
    assert.equal(e.eventId, 'alpaca:2f63ea93-423d-4169-b3f6-3fdafc10c418');
    assert.equal(e.ts, Date.parse('2021-03-16T13:31:00.000Z'));
    assert.equal(e.receivedTs, 1_700_000_000_000);
    assert.equal(e.clientOrderId, 'eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4');
    assert.deepEqual(
      { ...e.fill },
      {
        orderId: '61e69015-8549-4bfd-b9c3-01e75843f47d',
        clientOrderId: 'eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4',
        symbol: 'AAPL',
        side: 'buy',
        qty: 1,
        price: 125.7,
        ts: e.ts,
        commission: 0,
        regulatoryFees: 0,
        slippage: 0,
      },
    );
    assert.equal(e.positionQty, 1);
    assert.equal(e.order.status, 'filled');
    assert.equal(e.order.filledAvgPrice, 125.7);
  });

  test('when an update has no model event (pending_new, done_for_day), then nothing is emitted', () => {
    const u = fixture('trade_update.json').data as Record<string, any>;
    for (const event of ['pending_new', 'pending_cancel', 'done_for_day', 'order_cancel_rejected'])
      assert.equal(orderEventFromWire({ ...u, event }, 0), undefined, event);
  });

  test("when Alpaca's canned order and position are read, then they are the model's Order and Holding", () => {
    const o = orderFromWire(fixture('order.json'));
    assert.equal(o.status, 'accepted');
    assert.equal(o.orderClass, 'simple');
    assert.equal(o.updatedAt, Date.parse('2021-03-16T18:38:01.942282Z'));
    assert.equal(o.held, undefined);
    const p = positionFromWire(fixture('position.json'));
    assert.deepEqual(p, { symbol: 'AAPL', qty: 5, avgPrice: 100, lastPrice: 120 });
    assert.equal(marketValue(p), 600);
    assert.equal(unrealizedPnl(p), 100);
    // the simulator's payload carries every key of Alpaca's
    const sent = positionToWire(p);
    const missing = Object.keys(fixture('position.json')).filter((k) => !(k in sent));
    assert.deepEqual(missing, []);
    assert.equal(sent.market_value, '600');
    assert.equal(sent.unrealized_pl, '100');
  });

  test('when a bracket leg waits for its parent, then Alpaca says "held" and the model says new + held', () => {
    const leg: Order = {
      id: 'l1',
      clientOrderId: 'b:tp',
      symbol: 'AAPL',
      side: 'sell',
      qty: 3,
      type: 'limit',
      limitPrice: 110,
      timeInForce: 'gtc',
      orderClass: 'bracket',
      status: 'new',
      held: true,
      filledQty: 0,
      submittedAt: 1,
      updatedAt: 1,
    };
    const wire = orderToWire(leg);
    assert.equal(wire.status, 'held');
    const back = orderFromWire(wire);
    assert.equal(back.status, 'new');
    assert.equal(back.held, true);
    assert.equal(orderFromWire({ ...wire, status: 'pending_replace' }).status, 'accepted');
    assert.equal(orderFromWire({ ...wire, status: 'calculated' }).status, 'done_for_day');
  });

  test('when the simulated broker streams its events through the wire and back, then the adapter sees the same events', () => {
    const b = new SimBroker({ fill: { latencyMs: 0 } });
    const T0 = Date.UTC(2024, 2, 5, 14, 30);
    b.onBar({
      symbol: 'SPY',
      timeframe: '1m',
      ts: T0,
      open: 100,
      high: 100,
      low: 100,
      close: 100,
      volume: 1e6,
    });
    const spec = orderSpecFromWire({
      client_order_id: 'x1',
      symbol: 'spy',
      side: 'buy',
      qty: '10',
      type: 'limit',
      limit_price: '101',
      time_in_force: 'gtc',
      order_class: 'bracket',
      take_profit: { limit_price: '110' },
      stop_loss: { stop_price: '90' },
    });
    assert.equal(spec.symbol, 'SPY');
    const events: OrderEvent[] = [...b.submit(spec, T0 + 60_000).events] as OrderEvent[];
    events.push(
      ...(b.onBar({
        symbol: 'SPY',
        timeframe: '1m',
        ts: T0 + 60_000,
        open: 100,
        high: 100.5,
        low: 99.5,
        close: 100,
        volume: 1e6,
      }) as OrderEvent[]),
    );
    const streamed = events.flatMap((e) => {
      const data = tradeUpdateToWire(e);
      return data ? [JSON.parse(JSON.stringify(data)) as Record<string, any>] : [];
    });
    const seen = streamed.map((d) => orderEventFromWire(d, 0)!);
    const direct = events.filter((e) => e.type !== 'OrderSubmitted' && e.type !== 'OrderTriggered');
    assert.deepEqual(
      seen.map((e) => [e.type, e.clientOrderId, e.ts]),
      direct.map((e) => [e.type, e.clientOrderId, e.ts]),
    );
    const fill = seen.find((e) => e.type === 'OrderFilled');
    const simFill = direct.find((e) => e.type === 'OrderFilled');
    assert.ok(fill?.type === 'OrderFilled' && simFill?.type === 'OrderFilled');
    assert.equal(fill.fill.qty, simFill.fill.qty);
    assert.equal(fill.fill.price, simFill.fill.price);
    assert.equal(fill.positionQty, 10);
  });
});
