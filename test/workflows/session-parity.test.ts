import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SessionResult } from '../../contracts/session';
import { createExecutionActivities } from '../../activities/execution.activities';
import { createSessionActivities } from '../../activities/session.activities';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { SimBrokerExchange } from '../../src/execution/simulator/sim-broker-exchange';
import { InProcessBroker } from '../../src/execution/simulator/in-process-broker';
import { BarReplay, loadBarsFromStore } from '../../src/execution/simulator/replay';
import { inProcessReplayDriver } from '../../src/execution/simulator/replay-driver';
import { PgBarSource } from '../../src/session/bar-source';
import { runSessionDayInProcess } from '../../src/session/in-process-day';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, seedReplayDay, sessionInput, startSessionEnv } from '../support/session-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['PAR1', 'PAR2', 'PAR3', 'PAR4', 'PAR5'];

describe('parity: replay-mode session vs in-process run over the same day', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;

  before(async () => {
    db = await createTestDatabase('tt_session_parity');
    await seedReplayDay(db, SYMBOLS, 35, 23);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when the same day, strategy and risk settings run through Temporal and in process, then the order-list hashes are equal', async () => {
    const limits = {
      maxPositionPct: 0.03,
      maxGrossExposurePct: 0.5,
      maxDailyLossPct: 0.03,
      maxOrderNotional: 10_000,
      maxOrdersPerCycle: 50,
    };
    const strategy = { name: 'sma-trend' as const, fast: 2, slow: 5, weight: 0.05 };

    const env = await startSessionEnv(t, db, SYMBOLS, { keyId: 'PKPARITY', secret: 'parity-secret' });
    let viaTemporal: SessionResult;
    try {
      const input = sessionInput(env.workers, SYMBOLS, {
        sessionId: 'sess-parity',
        limits,
        strategy,
        modelId: 'sma-trend-v1',
      });
      viaTemporal = (await t.client.workflow.execute('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `test-parity-${Date.now()}`,
        args: [input],
      })) as SessionResult;
    } finally {
      await env.close();
    }

    const { open, close } = sessionBounds(SESSION_DATE);
    // The same engine the simulator server runs by default: the backtester's SimBroker with its cost models.
    const exchange = new SimBrokerExchange({ startingCash: 100_000 }, open - 60_000);
    const replay = new BarReplay(
      exchange,
      await loadBarsFromStore(db.pool, { symbols: SYMBOLS, timeframe: '1m', from: open, to: close }),
    );
    const inProcess = await runSessionDayInProcess(
      sessionInput({ ioQueue: 'unused', execQueue: 'unused' }, SYMBOLS, {
        sessionId: 'sess-parity',
        limits,
        strategy,
        modelId: 'sma-trend-v1',
      }),
      createSessionActivities({ bars: new PgBarSource(db.pool) }),
      createExecutionActivities({
        broker: new InProcessBroker(exchange),
        replay: inProcessReplayDriver(replay),
      }),
    );

    assert.ok(viaTemporal.ordersPlaced > 5, `enough orders to compare (${viaTemporal.ordersPlaced})`);
    assert.equal(inProcess.orderHash, viaTemporal.orderHash);
    assert.equal(inProcess.ordersPlaced, viaTemporal.ordersPlaced);
    assert.deepEqual(inProcess.finalPositions, viaTemporal.finalPositions);
    assert.equal(inProcess.dailyPnl, viaTemporal.dailyPnl);
  });
});
