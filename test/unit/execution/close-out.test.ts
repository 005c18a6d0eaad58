import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  closeOutDateKey,
  closingOrderId,
  marketableLimitPrice,
  planCloseOut,
  type CloseOutInput,
} from '../../../src/execution/close-out';
import type { Order } from '../../../src/model/order';
import type { Holding } from '../../../src/model/position';

const DAY = '20240312';
const pos = (symbol: string, qty: number, lastPrice = 100): Holding => ({
  symbol,
  qty,
  avgPrice: lastPrice,
  lastPrice,
});
let nextId = 0;
const order = (o: Partial<Order> & Pick<Order, 'clientOrderId' | 'symbol'>): Order => ({
  id: `o${++nextId}`,
  side: 'sell',
  qty: 10,
  type: 'market',
  timeInForce: 'day',
  status: 'new',
  orderClass: 'simple',
  filledQty: 0,
  submittedAt: 0,
  updatedAt: 0,
  ...o,
});
const plan = (p: Partial<CloseOutInput>) =>
  planCloseOut({
    open: [],
    recent: [],
    positions: [],
    level: 0,
    baseBandBps: 50,
    escalating: false,
    dateKey: DAY,
    skip: new Set(),
    ...p,
  });

describe('emergency close-out plan', () => {
  test('when positions have nothing open, then each gets one market order with a day-scoped deterministic id', () => {
    const p = plan({ positions: [pos('AAA', 100), pos('BBB', -50)] });
    assert.deepEqual(
      p.send.map((s) => [s.clientOrderId, s.side, s.qty, s.type]),
      [
        ['esd-20240312-AAA-0', 'sell', 100, 'market'],
        ['esd-20240312-BBB-0', 'buy', 50, 'market'],
      ],
    );
    assert.deepEqual(p.cancel, []);
  });

  test('when a closing order is working, then nothing more is sent for that position (no churn)', () => {
    const working = order({ clientOrderId: closingOrderId(DAY, 'AAA', 0), symbol: 'AAA', qty: 100 });
    const p = plan({ positions: [pos('AAA', 100)], open: [working], recent: [working] });
    assert.deepEqual(p.send, []);
    assert.deepEqual(p.replace, []);
    assert.deepEqual(p.waiting, ['AAA']);
  });

  test("when a session's order is open, then it is canceled and the symbol waits until it is final", () => {
    const sessionOrder = order({ clientOrderId: 'sess:1:AAA:0', symbol: 'AAA', side: 'buy' });
    const p = plan({ positions: [pos('AAA', 100), pos('BBB', 5)], open: [sessionOrder] });
    assert.deepEqual(
      p.cancel.map((o) => o.clientOrderId),
      ['sess:1:AAA:0'],
    );
    assert.deepEqual(
      p.send.map((s) => s.symbol),
      ['BBB'],
    );
  });

  test('when the level rises, then a working market order is replaced, and the next order is a marketable limit with the next id', () => {
    const market = order({ clientOrderId: closingOrderId(DAY, 'AAA', 0), symbol: 'AAA', qty: 100 });
    const escalate = plan({ positions: [pos('AAA', 100)], open: [market], level: 1, escalating: true });
    assert.deepEqual(
      escalate.replace.map((o) => o.clientOrderId),
      ['esd-20240312-AAA-0'],
    );
    assert.deepEqual(escalate.send, []);
    // a step later the venue shows the market order canceled
    const canceled = { ...market, status: 'canceled' as const };
    const next = plan({ positions: [pos('AAA', 100, 50)], recent: [canceled], level: 1 });
    assert.deepEqual(
      next.send.map((s) => [s.clientOrderId, s.type, s.limitPrice]),
      [['esd-20240312-AAA-1', 'limit', 49.75]],
    );
    // not escalating: the working limit is left alone even when the price moved away
    const limit = order({
      clientOrderId: 'esd-20240312-AAA-1',
      symbol: 'AAA',
      type: 'limit',
      limitPrice: 49.75,
    });
    assert.deepEqual(plan({ positions: [pos('AAA', 100, 40)], open: [limit], level: 1 }).replace, []);
  });

  test('when two shutdowns plan from the same venue state, then they derive the same order ids', () => {
    const state = {
      positions: [pos('AAA', 100), pos('CCC', 3)],
      recent: [order({ clientOrderId: 'esd-20240312-AAA-0', symbol: 'AAA', status: 'canceled' })],
    };
    assert.deepEqual(
      plan({ ...state, level: 0 }).send.map((s) => s.clientOrderId),
      plan({ ...state, level: 2 }).send.map((s) => s.clientOrderId),
    );
  });

  test('when an order filled between the reads, then the later view wins and a partly closed position waits', () => {
    const o = order({ clientOrderId: 'esd-20240312-AAA-0', symbol: 'AAA', qty: 100 });
    const partly = { ...o, status: 'partially_filled' as const, filledQty: 40 };
    const p = plan({ positions: [pos('AAA', 60)], open: [o], recent: [partly] });
    assert.deepEqual(p.send, []);
    assert.deepEqual(p.waiting, ['AAA']);
  });

  test('when a symbol was given up on, then nothing is sent or replaced for it', () => {
    assert.deepEqual(plan({ positions: [pos('DDD', 5)], skip: new Set(['DDD']) }).send, []);
  });

  test('when marketable limits are priced, then they cross the last price by the band on the tick', () => {
    assert.equal(marketableLimitPrice('sell', 100, 1, 50), 99.5);
    assert.equal(marketableLimitPrice('buy', 100, 2, 50), 101);
    assert.equal(marketableLimitPrice('sell', 0.5, 1, 50), 0.4975);
    assert.equal(closeOutDateKey(Date.UTC(2024, 2, 13, 3, 0)), '20240312');
  });
});
