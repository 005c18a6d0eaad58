import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OperatorLimits, SessionResult, StrategySpec } from '../../contracts/session';
import { runBacktest } from '../../src/backtest/engine';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { loadBarsFromStore } from '../../src/execution/simulator/replay';
import { barsToColumns, type Bar } from '../../src/model/bar';
import { withOperatorLimits } from '../../src/risk/types';
import { createStrategy } from '../../src/strategy/registry';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['PAR1', 'PAR2', 'PAR3', 'PAR4', 'PAR5'];
const FULL_DAY = 390;

/**
 * Parity (issues 7 and 13): a replay-mode TradingSession over a stored day and the in-process
 * backtester (src/backtest runBacktest) over the same bars, with the same strategy spec, seed and risk
 * settings, send the same orders in the same order: equal order-list hashes. Both build the strategy from
 * the same spec (src/strategy/registry); the simulator's exchange is the backtester's SimBroker.
 */
describe('parity: replay-mode session through Temporal vs the in-process backtester over the same day', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let dayBars: Bar[];

  before(async () => {
    db = await createTestDatabase('tt_session_parity');
    await seedReplayDay(db, SYMBOLS, FULL_DAY, 23);
    const { open, close } = sessionBounds(SESSION_DATE);
    dayBars = await loadBarsFromStore(db.pool, { symbols: SYMBOLS, timeframe: '1m', from: open, to: close });
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  const limits: OperatorLimits = {
    maxPositionFraction: 0.05,
    maxGrossExposure: 1,
    dailyLossLimit: 0.03,
    maxOrderNotional: 25_000,
    maxOrdersPerCycle: 200,
  };

  async function viaTemporal(sessionId: string, strategy: StrategySpec): Promise<SessionResult> {
    const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKPARITY', secret: 'parity-secret' });
    try {
      const input = sessionInput(env.workers, SYMBOLS, { sessionId, limits, strategy, seed: 7 });
      return (await t.client.workflow.execute('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `test-parity-${sessionId}-${Date.now()}`,
        args: [input],
      })) as SessionResult;
    } finally {
      await env.close();
    }
  }

  function inProcess(sessionId: string, strategy: StrategySpec) {
    return runBacktest({
      strategy: createStrategy(strategy),
      series: SYMBOLS.map((s) =>
        barsToColumns(
          s,
          '1m',
          dayBars.filter((b) => b.symbol === s),
        ),
      ),
      startingCash: 100_000,
      seed: 7,
      session: sessionId,
      risk: withOperatorLimits(limits),
    });
  }

  const cases: Array<{ name: string; strategy: StrategySpec; minOrders: number }> = [
    { name: 'sma-trend', strategy: { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04 }, minOrders: 100 },
    {
      // The reference AI strategy on 1m, 5m and 15m bars (the kernel builds 5m/15m from the minutes, and the
      // strategy picks each symbol's timeframe by its out-of-sample score), with the universe filters opened up
      // for five synthetic symbols so it trades through the day.
      name: 'reference-ai-1m-5m-15m',
      strategy: {
        name: 'reference-ai',
        timeframes: ['1m', '5m', '15m'],
        params: {
          minConsensus: 0.5,
          volumeConfirm: 0.5,
          minRewardRisk: 1,
          universe: {
            minPrice: 1,
            minDollarVolume: 0,
            activeRelVolume: 0,
            activeAtrFraction: 0,
            focusTopN: 5,
          },
        },
      },
      minOrders: 6,
    },
  ];

  for (const c of cases)
    test(`when ${c.name} runs a full replay day through Temporal and in the backtester, then both send the same orders (order-list hash), counts and final positions`, async () => {
      const sessionId = `sess-parity-${c.name}`;
      const session = await viaTemporal(sessionId, c.strategy);
      const backtest = inProcess(sessionId, c.strategy);

      assert.ok(backtest.submitted >= c.minOrders, `enough orders to compare (${backtest.submitted})`);
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
    });
});
