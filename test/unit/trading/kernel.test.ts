import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { runBacktest, runBacktestAsync } from '../../../src/backtest/engine';
import { aggregateColumns } from '../../../src/market/aggregate';
import { NYSE } from '../../../src/market/calendar';
import { allocBarColumns, type BarColumns } from '../../../src/model/bar';
import {
  FNV1A64_EMPTY,
  MAX_CLIENT_ORDER_ID_LENGTH,
  RESERVED_SEQ,
  fnv1a64Hex,
  foldOrderList,
  makeClientOrderId,
  orderHashLine,
  parseClientOrderId,
} from '../../../src/model/client-order-id';
import type { Command } from '../../../src/model/command';
import { mulberry32 } from '../../../src/model/random';
import type { Timeframe } from '../../../src/model/timeframe';
import { riskLimits, withOperatorLimits, DEFAULT_OPERATOR_LIMITS } from '../../../src/risk/types';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type PredictionSet,
  type Strategy,
  type StrategyContext,
} from '../../../src/strategy/types';
import { snapshotAccount, type AccountPosition, type AccountSnapshot } from '../../../src/trading/account';
import { TradingKernel, type Action } from '../../../src/trading/kernel';
import type { PredictionPort } from '../../../src/trading/prediction';
import { TradeBook } from '../../../src/trading/trade-book';

const DAY = '2024-03-12';
const OPEN = NYSE.sessionFor(DAY)!.openMs;
const MIN = 60_000;

/** A strategy that returns what a script says at each decision (and records what it saw). */
class Script implements Strategy {
  readonly name = 'script';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly seen: Array<{ now: number; open: string[]; updated: string[] }> = [];
  constructor(
    private readonly script: (
      ctx: StrategyContext,
      feed: BarFeed,
      i: number,
      predictions?: PredictionSet,
    ) => Command[],
    readonly timeframes: readonly Timeframe[] = ['1m'],
    readonly warmUpBars = 1,
  ) {}
  onBar(ctx: StrategyContext, feed: BarFeed, predictions?: PredictionSet): Command[] {
    this.seen.push({
      now: ctx.now,
      open: feed.symbols().flatMap((s) => ctx.portfolio.openOrders(s)),
      updated: feed.updated.map((u) => `${u.symbol}:${u.timeframe}`),
    });
    return this.script(ctx, feed, this.seen.length - 1, predictions);
  }
}

function minutes(symbol: string, from: number, n: number, seed = 3, gapEvery = 0): BarColumns {
  const rnd = mulberry32(seed);
  const ts: number[] = [];
  for (let i = 0; i < n; i++) if (!(gapEvery && i % gapEvery === gapEvery - 1)) ts.push(from + i * MIN);
  const c = allocBarColumns(symbol, '1m', ts.length);
  let px = 100;
  ts.forEach((t, i) => {
    const o = px;
    const cl = o * (1 + (rnd() - 0.5) * 0.004);
    c.ts[i] = t;
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * 1.001;
    c.low[i] = Math.min(o, cl) * 0.999;
    c.volume[i] = 1_000 + Math.floor(rnd() * 5_000);
    px = cl;
  });
  return c;
}

const account = (over: Partial<AccountSnapshot> = {}): AccountSnapshot => ({
  equity: 100_000,
  cash: 100_000,
  buyingPower: 100_000,
  positions: [],
  orders: [],
  ...over,
});
const pos = (symbol: string, qty: number, price: number): AccountPosition => ({
  symbol,
  qty,
  avgPrice: price,
  lastPrice: price,
});

function kernelFor(
  strategy: Strategy,
  symbols: string[],
  limits = riskLimits(),
  session = 's',
): TradingKernel {
  const k = new TradingKernel(
    { strategy, session, seed: 1, limits, start: { equity: 100_000 } },
    symbols.map((symbol) => ({ symbol, timeframe: '1m' as const })),
  );
  for (const s of symbols) {
    const c = minutes(s, OPEN, 60, s.charCodeAt(0));
    const bars = [];
    for (let i = 0; i < c.ts.length; i++)
      bars.push({
        symbol: s,
        timeframe: '1m' as const,
        ts: c.ts[i]!,
        open: c.open[i]!,
        high: c.high[i]!,
        low: c.low[i]!,
        close: c.close[i]!,
        volume: c.volume[i]!,
      });
    k.append(bars);
  }
  return k;
}

function buy(ctx: StrategyContext, symbol: string, qty: number, price: number): Command {
  return ctx.orders.submit(ctx.orders.market(symbol, 'buy', qty, { intent: 'entry' }), price);
}

const submits = (actions: readonly Action[]) =>
  actions.filter((a): a is Extract<Action, { kind: 'submit' }> => a.kind === 'submit');

describe('trading kernel: the risk step', () => {
  test('when commands and operator caps are random, then no approved entry breaches the notional, count or position caps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            symbol: fc.constantFrom('A', 'B', 'C', 'D', 'E'),
            qty: fc.integer({ min: 1, max: 5_000 }),
            price: fc.double({ min: 1, max: 500, noNaN: true }),
          }),
          { maxLength: 8 },
        ),
        fc.record({
          maxPositionFraction: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
          maxOrderNotional: fc.integer({ min: 100, max: 50_000 }),
          maxOrdersPerCycle: fc.integer({ min: 1, max: 10 }),
        }),
        async (raw, caps) => {
          const limits = withOperatorLimits({ ...DEFAULT_OPERATOR_LIMITS, ...caps });
          const strategy = new Script((ctx) => raw.map((r) => buy(ctx, r.symbol, r.qty, r.price)));
          const k = kernelFor(strategy, ['A', 'B', 'C', 'D', 'E'], limits);
          k.advance(OPEN + MIN);
          const r = await k.decide(OPEN + MIN, snapshotAccount(account()));
          const orders = submits(r.actions);
          assert.ok(orders.length <= caps.maxOrdersPerCycle);
          for (const o of orders) {
            assert.ok(o.order.qty * o.refPrice <= caps.maxOrderNotional + 1e-6, 'order notional');
            assert.ok(
              o.order.qty * o.refPrice <= caps.maxPositionFraction * 100_000 + 1e-6,
              'single position',
            );
          }
          assert.equal(new Set(orders.map((o) => o.order.clientOrderId)).size, orders.length, 'ids unique');
          assert.equal(orders.length + r.denials.length, raw.length, 'every command accounted for');
        },
      ),
      { numRuns: 60 },
    );
  });

  test('when the day has lost the limit, then the breaker flattens every position with reserved ids, the strategy sees those orders as open, and entries are denied while exits pass', async () => {
    const id = (symbol: string, seq: number) => makeClientOrderId({ session: 's', barTs: OPEN, symbol, seq });
    const strategy = new Script((ctx) => [
      buy(ctx, 'CCC', 10, 20),
      ctx.orders.submit(ctx.orders.market('BBB', 'buy', 10, { intent: 'exit' }), 50),
    ]);
    const k = kernelFor(strategy, ['AAA', 'BBB', 'CCC']);
    const t = OPEN + MIN;
    k.advance(t);
    const r = await k.decide(
      t,
      snapshotAccount(
        account({
          equity: 96_900,
          positions: [pos('AAA', 20, 100), pos('BBB', -10, 50)],
          orders: [
            {
              clientOrderId: id('AAA', 0),
              symbol: 'AAA',
              side: 'buy',
              qty: 5,
              filledQty: 0,
              limitPrice: 99,
              leg: false,
            },
          ],
        }),
      ),
    );
    assert.equal(r.mode, 'HALTED');
    const breaker = (symbol: string) =>
      makeClientOrderId({ session: 's', barTs: t, symbol, seq: RESERVED_SEQ.breaker });
    assert.deepEqual(
      r.actions.map((a) =>
        a.kind === 'submit' ? [a.order.clientOrderId, a.order.side, a.order.qty] : [a.kind],
      ),
      [
        ['cancelSymbol'],
        [breaker('AAA'), 'sell', 20],
        [breaker('BBB'), 'buy', 10],
        [`s:${t}:BBB:1`, 'buy', 10],
      ],
      'the replaced order is canceled first, then the flattens by symbol, then the strategy exit (the entry is denied)',
    );
    assert.deepEqual(
      strategy.seen[0]!.open.sort(),
      [breaker('AAA'), breaker('BBB')],
      'the strategy sees the two flatten orders, not the canceled one',
    );
    assert.deepEqual(
      r.denials.map((d) => [d.symbol, d.rule]),
      [['CCC', 'halted']],
    );

    // the next trading day starts from the equity the halt left: the breaker's HALTED ends with the day
    const nextOpen = NYSE.sessionFor('2024-03-13')!.openMs;
    for (const symbol of ['AAA', 'BBB', 'CCC']) {
      const c = minutes(symbol, nextOpen, 5, symbol.charCodeAt(0));
      k.append(
        Array.from(c.ts, (ts, i) => ({
          symbol,
          timeframe: '1m' as const,
          ts,
          open: c.open[i]!,
          high: c.high[i]!,
          low: c.low[i]!,
          close: c.close[i]!,
          volume: c.volume[i]!,
        })),
      );
    }
    const t2 = nextOpen + 2 * MIN;
    k.advance(t2);
    const next = await k.decide(t2, snapshotAccount(account({ equity: 96_900 })));
    assert.notEqual(next.mode, 'HALTED', `a new day lifts the loss breaker (${next.modeReason})`);
    assert.doesNotMatch(next.modeReason, /loss/);
  });

  test('when an entry has no fresh data or exceeds the position count, then the engine denies it', async () => {
    const held = Array.from({ length: 10 }, (_, i) => pos(`P${i}`, 10, 100));
    const strategy = new Script((ctx) => [buy(ctx, 'NEW', 10, 100), buy(ctx, 'OLD', 10, 100)]);
    const k = new TradingKernel(
      { strategy, session: 's', seed: 1, limits: riskLimits(), start: { equity: 100_000 } },
      [
        { symbol: 'NEW', timeframe: '1m', columns: minutes('NEW', OPEN, 30) },
        // OLD's bars stop ten minutes before the decision: older than the 5-minute stale limit
        { symbol: 'OLD', timeframe: '1m', columns: minutes('OLD', OPEN, 20) },
      ],
    );
    const acct = snapshotAccount(account({ positions: held, buyingPower: 90_000 }));
    let r;
    for (let t = k.nextStep(); t <= OPEN + 30 * MIN; t = k.nextStep()) {
      k.advance(t);
      r = await k.decide(t, acct);
    }
    assert.deepEqual(submits(r!.actions), []);
    assert.deepEqual(
      r!.denials.map((d) => [d.symbol, d.rule]),
      [
        ['NEW', 'position_count'],
        ['OLD', 'stale_data'],
      ],
    );
  });

  test('when a strategy sizes a crypto entry and tries to short it, then the quantity is a fraction of a coin and the short is denied (not shortable)', async () => {
    let sized = 0;
    const strategy = new Script((ctx) => {
      sized = ctx.size({ symbol: 'BTCUSD', price: 60_000, stopPrice: 58_800, tier: 1, confidence: 1 }).qty;
      return [
        buy(ctx, 'BTCUSD', sized, 60_000),
        ctx.orders.submit(ctx.orders.market('ETHUSD', 'sell', 0.5), 3_000),
      ];
    });
    const k = new TradingKernel(
      { strategy, session: 's', seed: 1, limits: riskLimits(), start: { equity: 100_000 } },
      [
        { symbol: 'BTCUSD', timeframe: '1m', columns: minutes('BTCUSD', OPEN, 5) },
        { symbol: 'ETHUSD', timeframe: '1m', columns: minutes('ETHUSD', OPEN, 5) },
      ],
    );
    k.advance(OPEN + MIN);
    const r = await k.decide(OPEN + MIN, snapshotAccount(account()));
    assert.ok(sized > 0 && sized < 1 && !Number.isInteger(sized * 1000), `fractional size ${sized}`);
    assert.deepEqual(
      submits(r.actions).map((a) => [a.order.symbol, a.order.qty]),
      [['BTCUSD', sized]],
    );
    assert.deepEqual(
      r.denials.map((d) => [d.symbol, d.rule]),
      [['ETHUSD', 'not_shortable']],
    );
  });

  test('when the strategy cancels one order, then only that order is canceled; a flattened symbol has all its orders canceled', async () => {
    const id = (symbol: string, seq: number) => makeClientOrderId({ session: 's', barTs: OPEN, symbol, seq });
    const open = (symbol: string, seq: number) => ({
      clientOrderId: id(symbol, seq),
      symbol,
      side: 'buy' as const,
      qty: 5,
      filledQty: 0,
      limitPrice: 99,
      leg: false,
    });
    const strategy = new Script((ctx) => [
      { kind: 'cancel', clientOrderId: id('AAA', 1) },
      { kind: 'cancel', clientOrderId: 'not-open' },
      ctx.orders.flatten('BBB', 'exit'),
    ]);
    const k = kernelFor(strategy, ['AAA', 'BBB']);
    const t = OPEN + MIN;
    k.advance(t);
    const r = await k.decide(
      t,
      snapshotAccount(
        account({
          positions: [pos('BBB', 10, 50)],
          orders: [open('AAA', 0), open('AAA', 1), open('BBB', 2)],
        }),
      ),
    );
    assert.deepEqual(
      r.actions.map((a) =>
        a.kind === 'cancel'
          ? ['cancel', a.clientOrderId]
          : a.kind === 'cancelSymbol'
            ? ['cancelSymbol', a.symbol]
            : a.kind === 'submit'
              ? [a.order.symbol, a.order.side, a.order.qty]
              : [a.kind],
      ),
      [
        ['cancel', id('AAA', 1)],
        ['cancelSymbol', 'BBB'],
        ['BBB', 'sell', 10],
      ],
    );
  });

  test('when an intraday day reaches two bars before the close, then everything is flattened with end-of-day ids and no entry passes; a daily strategy keeps its positions', async () => {
    const close = NYSE.sessionFor(DAY)!.closeMs;
    for (const [tfs, flattens] of [
      [['1m'], true],
      [['1d'], false],
    ] as const) {
      const strategy = new Script((ctx) => [buy(ctx, 'AAA', 1, 100)], tfs);
      const k = new TradingKernel(
        { strategy, session: 's', seed: 1, limits: riskLimits(), start: { equity: 100_000 } },
        [{ symbol: 'AAA', timeframe: '1m', columns: minutes('AAA', close - 10 * MIN, 10) }],
      );
      const acct = snapshotAccount(account({ positions: [pos('AAA', 5, 100)] }));
      let last: Awaited<ReturnType<TradingKernel['decide']>> | undefined;
      for (let t = k.nextStep(); t !== Infinity; t = k.nextStep()) {
        k.advance(t);
        last = await k.decide(t, acct);
        if (t === close - 2 * MIN) break;
      }
      const ids = submits(last!.actions).map((a) => a.order.clientOrderId);
      if (flattens)
        assert.deepEqual(ids, [
          makeClientOrderId({
            session: 's',
            barTs: close - 2 * MIN,
            symbol: 'AAA',
            seq: RESERVED_SEQ.endOfDay,
          }),
        ]);
      else assert.ok(!ids.some((i) => parseClientOrderId(i)!.seq === RESERVED_SEQ.endOfDay));
    }
  });
});

describe('trading kernel: bars and timeframes', () => {
  test('when 1m bars (with gaps) are fed one by one, then the 5m/15m/1h/1d bars the strategy sees equal the batch aggregation, each visible once it closed', async () => {
    const days = ['2024-03-11', '2024-03-12'].map((d) => NYSE.sessionFor(d)!);
    const cols = days.map((s, i) => minutes('AAA', s.openMs, 390, 11 + i, 17));
    const all = concat(cols);
    const tfs: Timeframe[] = ['1m', '5m', '15m', '1h', '1d'];
    const seen = new Map<Timeframe, Array<[number, number, number]>>();
    const strategy = new Script((_ctx, feed) => {
      for (const u of feed.updated) {
        const b = feed.last(u.symbol, u.timeframe)!;
        const list = seen.get(u.timeframe) ?? [];
        list.push([b.ts, b.close, feed.now]);
        seen.set(u.timeframe, list);
      }
      return [];
    }, tfs);
    const k = new TradingKernel(
      { strategy, session: 's', seed: 1, limits: riskLimits(), start: { equity: 100_000 } },
      [{ symbol: 'AAA', timeframe: '1m' }],
    );
    const acct = snapshotAccount(account());
    for (let i = 0; i < all.ts.length; i++) {
      k.append([
        {
          symbol: 'AAA',
          timeframe: '1m',
          ts: all.ts[i]!,
          open: all.open[i]!,
          high: all.high[i]!,
          low: all.low[i]!,
          close: all.close[i]!,
          volume: all.volume[i]!,
        },
      ]);
      const t = all.ts[i]! + MIN;
      k.advance(t);
      await k.decide(t, acct);
    }
    for (const tf of ['5m', '15m', '1h', '1d'] as const) {
      const batch = aggregateColumns(all, tf);
      const got = seen.get(tf) ?? [];
      assert.deepEqual(
        got.map(([ts, c]) => [ts, c]),
        Array.from(batch.ts, (ts, j) => [ts, batch.close[j]]),
        `${tf} bars`,
      );
      for (const [ts, , at] of got)
        assert.ok(
          at >=
            (tf === '1d' ? NYSE.sessionFor(ts + 43_200_000)!.closeMs : ts + k.feed.series('AAA', tf)!.tfMs),
          `${tf} ${new Date(ts).toISOString()} seen after its close`,
        );
    }
  });

  test('when a prediction port answers asynchronously, then the async backtest awaits it and equals the synchronous one', async () => {
    const series = [minutes('AAA', OPEN, 200, 5), minutes('BBB', OPEN, 200, 6)];
    const preds = (now: number, symbols: readonly string[]): PredictionSet =>
      Object.fromEntries(
        symbols.map((s) => [
          s,
          [
            {
              model: 'test',
              timeframe: '1m' as const,
              expectedReturn: Math.sin(now / MIN + s.length) / 100,
              confidence: 0.8,
              horizonBars: 5,
            },
          ],
        ]),
      );
    const sync: PredictionPort = {
      name: 'sync',
      predict: (r) =>
        preds(
          r.now,
          r.updated.map((u) => u.symbol),
        ),
    };
    const later: PredictionPort = {
      name: 'async',
      predict: async (r) => {
        await new Promise((res) => setImmediate(res));
        return preds(
          r.now,
          r.updated.map((u) => u.symbol),
        );
      },
    };
    // trades each symbol toward the sign of its prediction: the orders depend on every answer of the port
    const strategy = () =>
      new Script((ctx, feed, _i, p) =>
        feed.updated.flatMap((u) => {
          const e = p?.[u.symbol]?.[0]?.expectedReturn ?? 0;
          const held = ctx.portfolio.position(u.symbol)?.qty ?? 0;
          const want = e > 0 ? 10 : 0;
          if (want === held || ctx.portfolio.openOrders(u.symbol).length) return [];
          const side = want > held ? 'buy' : 'sell';
          const last = feed.last(u.symbol, '1m')!.close;
          return [ctx.orders.submit(ctx.orders.market(u.symbol, side, Math.abs(want - held)), last)];
        }),
      );
    const a = runBacktest({ strategy: strategy(), series, predictions: sync });
    const b = await runBacktestAsync({ strategy: strategy(), series, predictions: later });
    assert.equal(a.orderHash, b.orderHash);
    assert.ok(a.submitted > 0);
    assert.throws(
      () => runBacktest({ strategy: strategy(), series, predictions: later }),
      /runBacktestAsync/,
    );
  });
});

describe('trading kernel: the trade book', () => {
  test('when positions open and close the same day, then day trades are counted and stops dropped; a position held from before is not a day trade', () => {
    const book = new TradeBook([pos('OLD', 5, 10)]);
    book.setStop('NEW', 95);
    book.observe('NEW', 10, 1);
    assert.equal(book.openedAt('NEW'), 1);
    book.observe('NEW', 0, 2);
    book.observe('OLD', 0, 2);
    assert.equal(book.dayTradesToday(), 1, 'NEW opened and closed today; OLD was held from before');
    assert.equal(book.stop('NEW'), undefined);
    for (let d = 0; d < 4; d++) book.rollDay();
    assert.equal(book.dayTradesInWindow(), 1, 'still inside five business days');
    book.rollDay();
    assert.equal(book.dayTradesInWindow(), 0, 'out of the window');
    assert.equal(new TradeBook([], [1, 0, 2]).dayTradesInWindow(), 3, 'earlier sessions count');
  });
});

describe('client order ids and the order-list hash', () => {
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

function concat(cols: BarColumns[]): BarColumns {
  const n = cols.reduce((s, c) => s + c.ts.length, 0);
  const out = allocBarColumns(cols[0]!.symbol, '1m', n);
  let k = 0;
  for (const c of cols)
    for (let i = 0; i < c.ts.length; i++, k++) {
      out.ts[k] = c.ts[i]!;
      out.open[k] = c.open[i]!;
      out.high[k] = c.high[i]!;
      out.low[k] = c.low[i]!;
      out.close[k] = c.close[i]!;
      out.volume[k] = c.volume[i]!;
    }
  return out;
}
