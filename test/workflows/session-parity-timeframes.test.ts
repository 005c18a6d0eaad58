import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OperatorLimits, SessionResult, StrategySpec } from '../../contracts/session';
import { runBacktest, type BacktestResult } from '../../src/backtest/engine';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { barsToColumns, type Bar } from '../../src/model/bar';
import { withOperatorLimits } from '../../src/risk/types';
import { upsertBars } from '../../src/storage/bar-store';
import { createStrategy } from '../../src/strategy/registry';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, sessionInput, startSessionEnv } from '../support/session-harness';
import { syntheticDayBars } from '../support/sim-bars';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

/**
 * Parity beyond 1m strategies (issue 13, acceptance 1): a session cycles on 1m bars while its strategy trades
 * 1h or 1d bars that the kernel builds from them, and warms up on the days before the open; the backtester runs
 * the same kernel over the same bars (history included, trading from the session's open). Each day stores only
 * the afternoon's minutes, which keeps the replay short and exercises partial buckets.
 */
const SYMBOLS = ['TFA', 'TFB', 'TFC'];
const HISTORY = ['2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-11'];
const LIMITS: OperatorLimits = {
  maxPositionFraction: 0.05,
  maxGrossExposure: 1,
  dailyLossLimit: 0.03,
  maxOrderNotional: 25_000,
  maxOrdersPerCycle: 200,
};

/** The last `minutes` of each date's regular session. */
function afternoons(dates: readonly string[], minutes: number, seed: number): Bar[] {
  return dates.flatMap((date, i) =>
    syntheticDayBars({
      date,
      symbols: SYMBOLS,
      minutes,
      seed: seed + i,
      start: sessionBounds(date).close - minutes * 60_000,
    }),
  );
}

describe('parity on higher timeframes: a session cycling on 1m bars vs the backtester', () => {
  let t: TemporalTestContext;
  before(async () => {
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
  });

  async function compare(
    name: string,
    strategy: StrategySpec,
    minutes: number,
    seed: number,
    crypto?: { symbol: string; from: number },
  ): Promise<{ session: SessionResult; backtest: BacktestResult }> {
    const db: TestDatabase = await createTestDatabase('tt_parity_tf');
    const symbols = crypto ? [crypto.symbol] : SYMBOLS;
    try {
      const bars = crypto
        ? syntheticDayBars({ date: SESSION_DATE, symbols, minutes, seed, start: crypto.from })
        : afternoons([...HISTORY, SESSION_DATE], minutes, seed);
      await upsertBars(db.pool, bars, 'test-synthetic', true);
      const sessionId = `sess-parity-${name}`;
      const window = crypto ? { open: crypto.from, close: crypto.from + minutes * 60_000 } : undefined;
      const env = await startSessionEnv(
        t,
        db,
        symbols,
        { keyId: 'PKTF', secret: 'tf-secret' },
        undefined,
        undefined,
        window,
      );
      let session: SessionResult;
      try {
        const input = sessionInput(env.workers, symbols, { sessionId, limits: LIMITS, strategy, seed: 5 });
        session = (await t.client.workflow.execute('tradingSessionWorkflow', {
          taskQueue: input.taskQueues!.io!,
          workflowId: `test-parity-${name}-${Date.now()}`,
          args: [input],
        })) as SessionResult;
      } finally {
        await env.close();
      }
      const backtest = runBacktest({
        strategy: createStrategy(strategy),
        series: symbols.map((s) =>
          barsToColumns(
            s,
            '1m',
            bars.filter((b) => b.symbol === s),
          ),
        ),
        startingCash: 100_000,
        seed: 5,
        session: sessionId,
        risk: withOperatorLimits(LIMITS),
        tradeFrom: window?.open ?? sessionBounds(SESSION_DATE).open,
      });
      return { session, backtest };
    } finally {
      await db.drop();
    }
  }

  function assertParity(session: SessionResult, backtest: BacktestResult, minOrders: number) {
    assert.ok(backtest.submitted >= minOrders, `enough orders to compare (${backtest.submitted})`);
    assert.equal(session.orderHash, backtest.orderHash, 'order-list hash');
    assert.equal(session.ordersPlaced, backtest.submitted - backtest.rejectedByBroker, 'orders placed');
    const held = (positions: ReadonlyArray<{ symbol: string; qty: number }>) =>
      positions
        .filter((p) => p.qty !== 0)
        .map((p) => `${p.symbol}:${p.qty}`)
        .sort();
    assert.deepEqual(held(session.finalPositions), held(backtest.openPositions), 'final positions');
    assert.equal(
      session.dailyPnl,
      Math.round((backtest.finalAccount.equity - 100_000) * 100) / 100,
      'daily P&L',
    );
  }

  test('when an sma-trend strategy on 1h bars runs a replayed afternoon, then its orders, positions and P&L equal the backtest of the same bars', async () => {
    const { session, backtest } = await compare(
      '1h',
      { name: 'sma-trend', fast: 2, slow: 3, weight: 0.04, timeframe: '1h' },
      180,
      31,
    );
    // decisions at 14:00 and 15:00 (the 13:00 and 14:00 hour bars), the flatten before the close
    assertParity(session, backtest, 4);
    assert.ok(
      backtest.trades.length > 0,
      'the hourly strategy opened and closed positions during the day (not only at its end)',
    );
  });

  test('when an sma-trend strategy on 1d bars warms up on the days before and decides at the close, then its orders equal the backtest of the same bars', async () => {
    const { session, backtest } = await compare(
      '1d',
      { name: 'sma-trend', fast: 2, slow: 3, weight: 0.04, timeframe: '1d' },
      30,
      41,
    );
    // the day's bar closes at 16:00: every symbol's target is set then (orders queue for the next open)
    assertParity(session, backtest, SYMBOLS.length);
    assert.ok(
      backtest.fills.length === 0,
      'a daily decision at the close cannot fill the same day (it fills at the next open)',
    );
  });

  test('when a BTCUSD session of New York 2024-03-12 trades across midnight UTC, then its fractional orders, positions and P&L equal the backtest of the same bars', async () => {
    // 22:30 to 01:30 UTC: the New York day (00:00-24:00 EDT = 04:00-04:00 UTC) crosses midnight UTC at 20:00
    const from = Date.UTC(2024, 2, 12, 22, 30);
    const { session, backtest } = await compare(
      'btcusd',
      { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04 },
      180,
      51,
      { symbol: 'BTCUSD', from },
    );
    assertParity(session, backtest, 10);
    const fills = backtest.fills;
    const midnight = Date.UTC(2024, 2, 13);
    assert.ok(
      fills.some((f) => f.ts < midnight) && fills.some((f) => f.ts >= midnight),
      'trades on both sides of midnight UTC',
    );
    assert.ok(
      fills.every((f) => !Number.isInteger(f.qty)),
      'fractional quantities',
    );
    assert.ok(
      backtest.deniedByRule.not_shortable > 0,
      'the sell-short signals are denied (crypto is not shortable)',
    );
    assert.ok(
      fills.every((f) => f.regulatoryFees === 0 && f.commission > 0),
      'the crypto fee schedule',
    );
  });
});
