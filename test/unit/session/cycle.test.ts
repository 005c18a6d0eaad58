import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { AccountSnapshot, AlgoInFlight } from '../../../contracts/session';
import {
  ALGO_SLICE_SEQ_BASE,
  RESERVED_SEQ,
  algoSliceSeq,
  makeClientOrderId,
} from '../../../src/model/client-order-id';
import type { OrderSpec } from '../../../src/model/order';
import { routesToAlgo, withAlgoOrders } from '../../../src/session/cycle';
import type { AccountOrder } from '../../../src/trading/account';
import type { Action } from '../../../src/trading/kernel';

const AT = 1_710_250_000_000;

describe('session cycle: orders worked by execution algorithms', () => {
  const algo = (symbol: string, qty: number, startQty = 0): AlgoInFlight => ({
    workflowId: `s/algo/${symbol}`,
    parentId: makeClientOrderId({ session: 's', barTs: AT, symbol, seq: 4 }),
    symbol,
    side: 'buy',
    qty,
    startQty,
    slices: 3,
    until: AT + 60_000,
  });
  const open = (id: string, symbol: string, qty: number): AccountOrder => ({
    clientOrderId: id,
    symbol,
    side: 'buy',
    qty,
    filledQty: 0,
    limitPrice: null,
    leg: false,
  });

  test('when an algorithm works an order, then its slices are hidden and the order itself stays open with the position change as filled', () => {
    const slice = makeClientOrderId({ session: 's', barTs: AT, symbol: 'AAA', seq: algoSliceSeq(4, 2) });
    const other = makeClientOrderId({ session: 's', barTs: AT, symbol: 'BBB', seq: 1 });
    const account: AccountSnapshot = {
      equity: 100_000,
      cash: 98_600,
      buyingPower: 98_600,
      positions: [{ symbol: 'AAA', qty: 70, avgPrice: 20, lastPrice: 20 }],
      orders: [open(slice, 'AAA', 30), open(other, 'BBB', 5)],
    };
    const out = withAlgoOrders(account, [algo('AAA', 90, 10)]);
    assert.deepEqual(
      out.orders.map((o) => [o.clientOrderId, o.qty, o.filledQty]),
      [
        [other, 5, 0],
        [algo('AAA', 90).parentId, 90, 60],
      ],
      'the kernel counts what is left of the worked order (30) as a working entry',
    );
    assert.equal(withAlgoOrders(account, []), account, 'no algorithm: the account as reported');
  });

  test('when slice ids are built, then they never equal a strategy, breaker or end-of-day id of the same bar', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 0, max: 998 }),
        (parentSeq, slice) => {
          const seq = algoSliceSeq(parentSeq, slice);
          assert.ok(seq >= ALGO_SLICE_SEQ_BASE && seq > RESERVED_SEQ.endOfDay);
          assert.equal(Math.floor((seq - ALGO_SLICE_SEQ_BASE) / 1000), parentSeq);
        },
      ),
    );
    assert.throws(() => algoSliceSeq(1, 999), /slice: 999/);
  });

  test('when routing is decided, then only plain market entries at or above the notional threshold or over the participation cap go to an algorithm', () => {
    const a = (over: Partial<OrderSpec> = {}, entry = true): Extract<Action, { kind: 'submit' }> => ({
      kind: 'submit',
      order: {
        clientOrderId: 'x',
        symbol: 'AAA',
        side: 'buy',
        qty: 100,
        type: 'market',
        timeInForce: 'day',
        ...over,
      },
      refPrice: 50,
      entry,
    });
    const r = { algoMinNotional: 5_000 };
    assert.equal(routesToAlgo(a(), r), true);
    assert.equal(routesToAlgo(a({}, false), r), false, 'exits go at once');
    assert.equal(routesToAlgo(a({ qty: 99 }), r), false, 'below the threshold');
    assert.equal(routesToAlgo(a({ type: 'limit', limitPrice: 50 }), r), false);
    assert.equal(routesToAlgo(a({ orderClass: 'bracket' }), r), false);
    assert.equal(routesToAlgo(a(), { algoMinNotional: null }), false, 'routing off');
    // participation: 100 shares against an average bar of 1,000 is 10%
    const p = { algoMinNotional: null, algoMaxParticipation: 0.05 };
    assert.equal(routesToAlgo(a(), p, 1_000), true, 'over 5% of the average bar');
    assert.equal(routesToAlgo(a(), p, 10_000), false, '1% of the average bar');
    assert.equal(routesToAlgo(a(), p), false, 'no volume known: the notional rule alone');
    assert.equal(routesToAlgo(a({}, false), p, 1_000), false, 'exits go at once');
  });
});
