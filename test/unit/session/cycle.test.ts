import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_SESSION_LIMITS, type Decision, type SessionPosition } from '../../../contracts/session';
import {
  makeClientOrderId,
  parseClientOrderId,
  MAX_CLIENT_ORDER_ID_LENGTH,
} from '../../../src/model/client-order-id';
import {
  checkWithRiskEngine,
  flattenOrders,
  nextRiskState,
  planCycleOrders,
} from '../../../src/session/cycle';

const pos = (symbol: string, qty: number, price: number): SessionPosition => ({
  symbol,
  qty,
  avgEntryPrice: price,
  marketValue: qty * price,
});

describe('session cycle: risk gate and deterministic orders', () => {
  test('when limits are random and targets arbitrary, then no planned order breaches position, notional or count limits', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            symbol: fc.constantFrom('A', 'B', 'C', 'D', 'E'),
            targetQty: fc.integer({ min: -5_000, max: 5_000 }),
            refPrice: fc.double({ min: 1, max: 500, noNaN: true }),
          }),
          { maxLength: 5 },
        ),
        fc.record({
          maxPositionPct: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
          maxOrderNotional: fc.integer({ min: 100, max: 50_000 }),
          maxOrdersPerCycle: fc.integer({ min: 1, max: 10 }),
        }),
        (raw, l) => {
          const decisions: Decision[] = [...new Map(raw.map((d) => [d.symbol, d])).values()];
          const limits = { ...DEFAULT_SESSION_LIMITS, ...l };
          const equity = 100_000;
          const { orders } = planCycleOrders({
            sessionId: 's',
            barTs: 1_000,
            decisions,
            positions: [],
            equity,
            limits,
            riskState: 'ACTIVE',
          });
          assert.ok(orders.length <= limits.maxOrdersPerCycle);
          for (const o of orders) {
            assert.ok(o.qty > 0 && Number.isInteger(o.qty));
            assert.ok(o.qty * o.refPrice <= limits.maxOrderNotional + 1e-6);
            assert.ok(o.qty * o.refPrice <= limits.maxPositionPct * equity + 1e-6);
          }
          assert.equal(
            new Set(orders.map((o) => o.clientOrderId)).size,
            orders.length,
            'client order ids unique',
          );
        },
      ),
    );
  });

  test('when a long position flips short, then a close and an open are planned with seq 0 and 1', () => {
    const { orders } = planCycleOrders({
      sessionId: 'sess',
      barTs: 60_000,
      decisions: [{ symbol: 'AAA', targetQty: -10, refPrice: 100 }],
      positions: [pos('AAA', 20, 100)],
      equity: 100_000,
      limits: DEFAULT_SESSION_LIMITS,
      riskState: 'ACTIVE',
    });
    assert.deepEqual(
      orders.map((o) => [o.clientOrderId, o.side, o.qty]),
      [
        ['sess:60000:AAA:0', 'sell', 20],
        ['sess:60000:AAA:1', 'sell', 10],
      ],
    );
  });

  test('when REDUCING only reductions pass, and when HALTED nothing does', () => {
    const base = {
      sessionId: 's',
      barTs: 0,
      positions: [pos('AAA', 20, 100)],
      equity: 100_000,
      limits: DEFAULT_SESSION_LIMITS,
    };
    const up = planCycleOrders({
      ...base,
      decisions: [{ symbol: 'AAA', targetQty: 40, refPrice: 100 }],
      riskState: 'REDUCING',
    });
    assert.deepEqual(up.orders, []);
    const down = planCycleOrders({
      ...base,
      decisions: [{ symbol: 'AAA', targetQty: 5, refPrice: 100 }],
      riskState: 'REDUCING',
    });
    assert.deepEqual(
      down.orders.map((o) => [o.side, o.qty]),
      [['sell', 15]],
    );
    const halted = planCycleOrders({
      ...base,
      decisions: [{ symbol: 'AAA', targetQty: 5, refPrice: 100 }],
      riskState: 'HALTED',
    });
    assert.deepEqual(halted.orders, []);
  });

  test('when the day loses half the limit then the whole limit, then REDUCING then HALTED, and HALTED sticks', () => {
    const l = DEFAULT_SESSION_LIMITS;
    assert.equal(nextRiskState('ACTIVE', 100_000, 99_000, l), 'ACTIVE');
    assert.equal(nextRiskState('ACTIVE', 100_000, 98_400, l), 'REDUCING');
    assert.equal(nextRiskState('REDUCING', 100_000, 96_900, l), 'HALTED');
    assert.equal(nextRiskState('HALTED', 100_000, 120_000, l), 'HALTED');
  });

  test('when the shared risk engine sees an entry beyond the position count or stale data, then it is denied and exits still pass', () => {
    const positions = Array.from({ length: 10 }, (_, i) => pos(`P${i}`, 10, 100));
    const orders = [
      ...flattenOrders('s', 0, [positions[0]!], 8, 'exit'),
      {
        clientOrderId: 's:0:NEW:0',
        symbol: 'NEW',
        side: 'buy' as const,
        qty: 10,
        type: 'market' as const,
        timeInForce: 'day' as const,
        refPrice: 100,
        reason: 'entry',
      },
      {
        clientOrderId: 's:0:OLD:0',
        symbol: 'OLD',
        side: 'buy' as const,
        qty: 10,
        type: 'market' as const,
        timeInForce: 'day' as const,
        refPrice: 100,
        reason: 'entry',
      },
    ];
    const r = checkWithRiskEngine(orders, {
      barTs: 0,
      barMs: 60_000,
      equity: 100_000,
      buyingPower: 90_000,
      startEquity: 100_000,
      positions,
      limits: DEFAULT_SESSION_LIMITS,
      riskState: 'ACTIVE',
      dataTs: ['P0', 'NEW'],
    });
    // The exit frees a slot, so NEW (fresh data) fits; OLD has no data at this bar.
    assert.deepEqual(
      r.orders.map((o) => o.symbol),
      ['P0', 'NEW'],
    );
    assert.match(r.denied[0]!.reason, /stale_data/);
  });

  test('when a session id is long, then the client order id stays within 128 chars, unique and parseable', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: 0, max: 999 }),
        (session, barTs, seq) => {
          const id = makeClientOrderId({ session, barTs, symbol: 'BRK.B', seq });
          assert.ok(id.length <= MAX_CLIENT_ORDER_ID_LENGTH);
          const p = parseClientOrderId(id)!;
          assert.equal(p.barTs, barTs);
          assert.equal(p.seq, seq);
          assert.equal(p.symbol, 'BRK.B');
          assert.equal(makeClientOrderId({ session, barTs, symbol: 'BRK.B', seq }), id, 'deterministic');
        },
      ),
    );
    assert.notEqual(
      makeClientOrderId({ session: 'x'.repeat(200) + 'a', barTs: 1, symbol: 'A', seq: 0 }),
      makeClientOrderId({ session: 'x'.repeat(200) + 'b', barTs: 1, symbol: 'A', seq: 0 }),
    );
  });
});
