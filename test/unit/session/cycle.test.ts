import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_SESSION_LIMITS,
  type AlgoInFlight,
  type DecideResult,
  type PlannedOrder,
  type SessionOpenOrder,
  type PortfolioSnapshot,
  type SessionPosition,
  type SessionState,
} from '../../../contracts/session';
import type { Command } from '../../../src/model/command';
import {
  ALGO_SLICE_SEQ_BASE,
  FNV1A64_EMPTY,
  MAX_CLIENT_ORDER_ID_LENGTH,
  RESERVED_SEQ,
  algoSliceSeq,
  fnv1a64Hex,
  foldOrderList,
  makeClientOrderId,
  orderHashLine,
  parseClientOrderId,
} from '../../../src/model/client-order-id';
import { initialSessionState } from '../../../src/session/cycle-runner';
import {
  breakerStep,
  riskStep,
  routesToAlgo,
  withAlgoOrders,
  withSnapshot,
} from '../../../src/session/cycle';

const pos = (symbol: string, qty: number, price: number): SessionPosition => ({
  symbol,
  qty,
  avgEntryPrice: price,
  marketValue: qty * price,
  currentPrice: price,
});

const AT = 1_710_250_000_000;

function stateWith(over: Partial<SessionState>): SessionState {
  return {
    ...initialSessionState(DEFAULT_SESSION_LIMITS),
    equity: 100_000,
    cash: 100_000,
    buyingPower: 100_000,
    startEquity: 100_000,
    peakEquity: 100_000,
    ...over,
  };
}

/** Decision data where `missing` symbols have no bar yet and every other symbol's bar closes at AT. */
const fresh = (missing: string[] = []): Pick<DecideResult, 'volatilityRatio' | 'staleData' | 'prices'> => ({
  volatilityRatio: 1,
  staleData: Object.fromEntries(missing.map((s) => [s, null])),
  prices: {},
});

const buy = (symbol: string, qty: number, price: number, seq = 0): Command => ({
  kind: 'submit',
  order: {
    clientOrderId: makeClientOrderId({ session: 's', barTs: AT, symbol, seq }),
    symbol,
    side: 'buy',
    qty,
    type: 'market',
    timeInForce: 'day',
    tag: { intent: 'entry', reason: 'test entry' },
  },
  refPrice: price,
});

describe('session cycle: the backtester risk step over a session state', () => {
  test('when commands and operator caps are random, then no approved entry breaches the notional, count or position caps', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            symbol: fc.constantFrom('A', 'B', 'C', 'D', 'E'),
            qty: fc.integer({ min: 1, max: 5_000 }),
            price: fc.double({ min: 1, max: 500, noNaN: true }),
          }),
          { maxLength: 8 },
        ),
        fc.record({
          maxPositionPct: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
          maxOrderNotional: fc.integer({ min: 100, max: 50_000 }),
          maxOrdersPerCycle: fc.integer({ min: 1, max: 10 }),
        }),
        (raw, caps) => {
          const limits = { ...DEFAULT_SESSION_LIMITS, ...caps };
          const commands = raw.map((r, i) => buy(r.symbol, r.qty, r.price, i));
          const step = riskStep({
            state: stateWith({ limits, universe: ['A', 'B', 'C', 'D', 'E'] }),
            at: AT,
            decided: { commands, ...fresh() },
          });
          const orders = step.batch.orders;
          assert.ok(orders.length <= limits.maxOrdersPerCycle);
          for (const o of orders) {
            assert.ok(o.qty * o.refPrice <= limits.maxOrderNotional + 1e-6, 'order notional');
            assert.ok(o.qty * o.refPrice <= limits.maxPositionPct * 100_000 + 1e-6, 'single position');
          }
          assert.equal(new Set(orders.map((o) => o.clientOrderId)).size, orders.length, 'ids unique');
          assert.equal(orders.length + step.denied.length, commands.length, 'every command accounted for');
        },
      ),
    );
  });

  test('when the day has lost the limit, then the breaker flattens every position with reserved ids, the strategy sees those orders as open, and entries are denied while exits pass', () => {
    const state = stateWith({
      universe: ['AAA', 'BBB', 'CCC'],
      equity: 96_900,
      positions: [pos('AAA', 20, 100), pos('BBB', -10, 50)],
      openOrders: [
        {
          clientOrderId: 's:1:AAA:0',
          symbol: 'AAA',
          side: 'buy',
          qty: 5,
          filledQty: 0,
          limitPrice: 99,
          child: false,
        },
      ],
    });
    const br = breakerStep('s', state, AT);
    assert.deepEqual(
      br.batch.orders.map((o) => [o.clientOrderId, o.side, o.qty]),
      [
        [
          makeClientOrderId({ session: 's', barTs: AT, symbol: 'AAA', seq: RESERVED_SEQ.breaker }),
          'sell',
          20,
        ],
        [makeClientOrderId({ session: 's', barTs: AT, symbol: 'BBB', seq: RESERVED_SEQ.breaker }), 'buy', 10],
      ],
    );
    assert.deepEqual(br.batch.cancelSymbols, ['AAA'], 'the replaced open order is cancelled first');
    assert.deepEqual(
      br.openOrders.map((o) => o.symbol),
      ['AAA', 'BBB'],
      'the strategy sees the two flatten orders (and not the cancelled one)',
    );
    assert.ok(br.openOrders.every((o) => o.clientOrderId.endsWith(`:${RESERVED_SEQ.breaker}`)));

    const exit: Command = {
      kind: 'submit',
      order: {
        clientOrderId: makeClientOrderId({ session: 's', barTs: AT, symbol: 'BBB', seq: 1 }),
        symbol: 'BBB',
        side: 'buy',
        qty: 10,
        type: 'market',
        timeInForce: 'day',
        tag: { intent: 'exit' },
      },
      refPrice: 50,
    };
    const step = riskStep({
      state: { ...state, openOrders: br.openOrders },
      at: AT,
      decided: { commands: [buy('CCC', 10, 20), exit], ...fresh() },
    });
    assert.equal(step.mode, 'HALTED');
    assert.deepEqual(
      step.batch.orders.map((o) => o.symbol),
      ['BBB'],
    );
    assert.match(step.denied[0]!.reason, /risk engine halted/);
  });

  test('when an entry has no fresh data or exceeds the position count, then the shared engine denies it', () => {
    const positions = Array.from({ length: 10 }, (_, i) => pos(`P${i}`, 10, 100));
    const step = riskStep({
      state: stateWith({
        positions,
        buyingPower: 90_000,
        universe: ['NEW', 'OLD', ...positions.map((p) => p.symbol)],
      }),
      at: AT,
      decided: { commands: [buy('NEW', 10, 100), buy('OLD', 10, 100, 1)], ...fresh(['OLD']) },
    });
    assert.deepEqual(step.batch.orders, []);
    assert.deepEqual(
      step.denied.map((d) => d.symbol),
      ['NEW', 'OLD'],
    );
  });

  test('when the strategy cancels one order, then only that order is canceled; a flattened symbol has all its orders canceled', () => {
    const id = (symbol: string, seq: number) =>
      makeClientOrderId({ session: 's', barTs: AT - 60_000, symbol, seq });
    const o = (symbol: string, seq: number): SessionOpenOrder => ({
      clientOrderId: id(symbol, seq),
      symbol,
      side: 'buy',
      qty: 5,
      filledQty: 0,
      limitPrice: 99,
      child: false,
    });
    const state = stateWith({
      universe: ['AAA', 'BBB'],
      positions: [pos('BBB', 10, 50)],
      openOrders: [o('AAA', 0), o('AAA', 1), o('BBB', 2)],
    });
    const step = riskStep({
      state,
      at: AT,
      decided: {
        commands: [
          { kind: 'cancel', clientOrderId: id('AAA', 1) },
          { kind: 'cancel', clientOrderId: id('BBB', 2) },
          { kind: 'cancel', clientOrderId: 'not-open' },
          {
            kind: 'flatten',
            symbol: 'BBB',
            clientOrderId: makeClientOrderId({ session: 's', barTs: AT, symbol: 'BBB', seq: 3 }),
            reason: 'exit',
          },
        ],
        ...fresh(),
      },
    });
    assert.deepEqual(step.batch.cancelIds, [id('AAA', 1)], 'AAA:0 stays working');
    assert.deepEqual(step.batch.cancelSymbols, ['BBB']);
    assert.deepEqual(
      step.batch.orders.map((x) => [x.symbol, x.side, x.qty]),
      [['BBB', 'sell', 10]],
    );
  });

  test('when snapshots show positions opening and closing the same day, then day trades are counted and stops dropped', () => {
    const snap = (positions: SessionPosition[]): PortfolioSnapshot => ({
      equity: 100_000,
      cash: 100_000,
      buyingPower: 100_000,
      positions,
      openOrders: 0,
      orders: [],
    });
    let s = stateWith({ openedAt: { OLD: 0 }, positions: [pos('OLD', 5, 10)], riskStops: { NEW: 95 } });
    s = withSnapshot(s, snap([pos('OLD', 5, 10), pos('NEW', 10, 100)]), AT);
    assert.equal(s.openedAt.NEW, AT);
    s = withSnapshot(s, snap([]), AT + 60_000);
    assert.equal(s.dayTrades, 1, 'NEW opened and closed today; OLD was held from before');
    assert.deepEqual(s.riskStops, {});
  });

  test('when orders are folded one by one into the order-list hash, then it equals the backtester hash of the joined lines', () => {
    const orders = [1, 2, 3].map((i) => ({
      clientOrderId: `s:${i}:A:0`,
      symbol: 'A',
      side: 'buy',
      qty: i,
      type: 'market',
    }));
    let h = FNV1A64_EMPTY;
    orders.forEach((o, i) => (h = foldOrderList(h, i, o)));
    assert.equal(h, fnv1a64Hex(orders.map(orderHashLine).join('\n')));
    assert.equal(FNV1A64_EMPTY, fnv1a64Hex(''));
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
  const open = (id: string, symbol: string, qty: number): SessionOpenOrder => ({
    clientOrderId: id,
    symbol,
    side: 'buy',
    qty,
    filledQty: 0,
    limitPrice: null,
    child: false,
  });

  test('when an algorithm works an order, then its slices are hidden and the order itself stays open with the position change as filled', () => {
    const slice = makeClientOrderId({ session: 's', barTs: AT, symbol: 'AAA', seq: algoSliceSeq(4, 2) });
    const other = makeClientOrderId({ session: 's', barTs: AT, symbol: 'BBB', seq: 1 });
    const out = withAlgoOrders(
      [open(slice, 'AAA', 30), open(other, 'BBB', 5)],
      [algo('AAA', 90, 10)],
      [pos('AAA', 70, 20)],
    );
    assert.deepEqual(
      out.map((o) => [o.clientOrderId, o.qty, o.filledQty]),
      [
        [other, 5, 0],
        [algo('AAA', 90).parentId, 90, 60],
      ],
    );
    // the risk engine counts what is left (30) as a pending entry
    const s = withSnapshot(
      stateWith({ algos: [algo('AAA', 90, 10)] }),
      {
        equity: 100_000,
        cash: 98_600,
        buyingPower: 98_600,
        positions: [pos('AAA', 70, 20)],
        openOrders: 1,
        orders: [open(slice, 'AAA', 30)],
      },
      AT,
    );
    assert.deepEqual(
      s.openOrders.map((o) => o.clientOrderId),
      [algo('AAA', 90).parentId],
    );
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
    const o = (over: Partial<PlannedOrder> = {}): PlannedOrder => ({
      clientOrderId: 'x',
      symbol: 'AAA',
      side: 'buy',
      qty: 100,
      type: 'market',
      timeInForce: 'day',
      refPrice: 50,
      reason: 'r',
      ...over,
    });
    const r = { algoMinNotional: 5_000 };
    assert.equal(routesToAlgo(o(), true, r), true);
    assert.equal(routesToAlgo(o(), false, r), false, 'exits go at once');
    assert.equal(routesToAlgo(o({ qty: 99 }), true, r), false, 'below the threshold');
    assert.equal(routesToAlgo(o({ type: 'limit', limitPrice: 50 }), true, r), false);
    assert.equal(routesToAlgo(o({ orderClass: 'bracket' }), true, r), false);
    assert.equal(routesToAlgo(o(), true, { algoMinNotional: null }), false, 'routing off');
    // participation: 100 shares against an average bar of 1,000 is 10%
    const p = { algoMinNotional: null, algoMaxParticipation: 0.05 };
    assert.equal(routesToAlgo(o(), true, p, 1_000), true, 'over 5% of the average bar');
    assert.equal(routesToAlgo(o(), true, p, 10_000), false, '1% of the average bar');
    assert.equal(routesToAlgo(o(), true, p), false, 'no volume known: the notional rule alone');
    assert.equal(routesToAlgo(o(), false, p, 1_000), false, 'exits go at once');
  });
});
