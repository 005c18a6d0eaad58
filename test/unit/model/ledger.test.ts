import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFill, buyingPower, equity, markPrice, newLedger } from '../../../src/model/ledger';
import { applyFillToPosition, flatPosition, unrealizedPnl } from '../../../src/model/position';
import { parseDecimal, roundCents, sumExact, toDecimalString } from '../../../src/model/money';
import { validateOrderSpec } from '../../../src/model/order';
import type { Fill } from '../../../src/model/events';

const fill = (side: 'buy' | 'sell', qty: number, price: number, commission = 0): Fill => ({
  orderId: 'o',
  clientOrderId: 'c',
  symbol: 'AAA',
  side,
  qty,
  price,
  ts: 1,
  commission,
  regulatoryFees: 0,
  slippage: 0,
});

describe('positions and ledger', () => {
  test('when a long is added to, then the average price is volume-weighted; a partial sell realizes against it', () => {
    let p = applyFillToPosition(flatPosition('AAA'), 'buy', 10, 100, 1).position;
    p = applyFillToPosition(p, 'buy', 10, 110, 2).position;
    assert.equal(p.avgPrice, 105);
    const r = applyFillToPosition(p, 'sell', 5, 120, 3);
    assert.equal(r.realized, 75);
    assert.equal(r.position.qty, 15);
    assert.equal(r.position.avgPrice, 105);
  });

  test('when a sell crosses through zero, then the long is closed and the rest opens a short at the fill price', () => {
    const long = applyFillToPosition(flatPosition('AAA'), 'buy', 10, 100, 1).position;
    const r = applyFillToPosition(long, 'sell', 15, 90, 2);
    assert.equal(r.realized, -100);
    assert.deepEqual([r.position.qty, r.position.avgPrice, r.position.openedAt], [-5, 90, 2]);
    assert.equal(unrealizedPnl({ ...r.position, lastPrice: 80 }), 50);
  });

  test('when fills and marks are applied, then cash, equity and buying power follow', () => {
    let l = newLedger(10_000);
    l = applyFill(l, fill('buy', 50, 100, 1));
    assert.equal(l.cash, 10_000 - 5000 - 1);
    l = markPrice(l, 'AAA', 110);
    assert.equal(equity(l), 4999 + 5500);
    assert.equal(buyingPower(l), 4999); // cash account: what is not invested
    const margin = markPrice(applyFill(newLedger(10_000, 2), fill('buy', 50, 100)), 'AAA', 100);
    assert.equal(buyingPower(margin), 20_000 - 5000);
    l = applyFill(l, fill('sell', 50, 110, 1));
    assert.deepEqual(Object.keys(l.positions), []);
    assert.equal(l.realizedPnl, 500);
    assert.equal(l.commissions, 2);
  });

  test('when money is rounded or written, then cents are exact and bad input names the field', () => {
    assert.equal(roundCents(0.1 + 0.2), 0.3);
    assert.equal(roundCents(-1.005), -1.01);
    assert.equal(toDecimalString(12.3456, 2), '12.35');
    assert.equal(sumExact(Array.from({ length: 10 }, () => 0.1)), 1);
    assert.throws(() => parseDecimal('1e3', 'cash'), /cash: "1e3" is not a decimal/);
  });

  test('when an order spec is inconsistent, then validation names the field', () => {
    const base = {
      clientOrderId: 'c',
      symbol: 'AAA',
      side: 'buy' as const,
      qty: 1,
      timeInForce: 'day' as const,
    };
    assert.equal(validateOrderSpec({ ...base, type: 'market' }), undefined);
    assert.match(validateOrderSpec({ ...base, type: 'limit' })!, /^limitPrice/);
    assert.match(validateOrderSpec({ ...base, type: 'trailing_stop' })!, /trailPrice/);
    assert.match(
      validateOrderSpec({
        ...base,
        type: 'market',
        orderClass: 'bracket',
        takeProfit: { limitPrice: 90 },
        stopLoss: { stopPrice: 95 },
      })!,
      /takeProfit.limitPrice: 90 must be above/,
    );
    assert.match(validateOrderSpec({ ...base, qty: -1, type: 'market' })!, /^qty/);
  });
});
