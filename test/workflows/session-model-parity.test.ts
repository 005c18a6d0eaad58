import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { OperatorLimits, SessionResult, StrategySpec } from '../../contracts/session';
import { runBacktest } from '../../src/backtest/engine';
import { trainAndServe, windowDataset } from '../../src/backtest/model-backtest';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { loadBarsFromStore } from '../../src/execution/simulator/replay';
import { COMPACT_FEATURE_SET } from '../../src/features/sets';
import { NYSE, addDays } from '../../src/market/calendar';
import { barsToColumns, type Bar, type BarColumns } from '../../src/model/bar';
import { ModelRegistry } from '../../src/models/registry/registry';
import {
  featureMatrices,
  featureWarmUpSessions,
  PrecomputedPort,
  journalRows,
  scoreSeries,
} from '../../src/models/serving/model-port';
import { loadServedModel } from '../../src/models/serving/served-model';
import { sessionModelPorts } from '../../src/models/serving/session-models';
import { DEFAULT_XGBOOST_SPEC } from '../../src/models/spec';
import { withOperatorLimits } from '../../src/risk/types';
import { upsertBars } from '../../src/storage/bar-store';
import { predictionsOf } from '../../src/storage/prediction-repo';
import { createStrategy } from '../../src/strategy/registry';
import { warmUpFrom } from '../../src/trading/warm-up';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, sessionInput, startSessionEnv } from '../support/session-harness';
import { syntheticDayBars } from '../support/sim-bars';
import { TEST_TEMPORAL_ADDRESS, connectTemporal, type TemporalTestContext } from '../support/temporal';
import { statusQuery } from '../../contracts/session';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';

const SYMBOLS = ['MOD1', 'MOD2', 'MOD3', 'MOD4', 'MOD5'];

/**
 * Acceptance 3 of issue 14: a replayed day through Temporal trading a registered XGBoost champion, served by ONNX
 * Runtime with features computed online bar by bar (OnlineFeatures in the session's kernel), sends the same orders
 * as runBacktest over the same bars with the same model scored in one batch over the offline feature matrix:
 * equal order-list hashes. The session also journals every prediction (traded model) with its inputs' hash.
 */
describe('parity with a model: a replayed session trading an ONNX champion vs runBacktest with the same model', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let dir: string;
  let registry: ModelRegistry;
  let modelId: string;
  let history: Bar[];
  let training: { ds: ReturnType<typeof windowDataset>; from: number; to: number };

  before(async () => {
    db = await createTestDatabase('tt_model_parity');
    dir = mkdtempSync(join(tmpdir(), 'model-parity-'));
    registry = new ModelRegistry(db.pool, dir);
    // eight sessions of history before the replayed day, then the day itself
    const days: string[] = [];
    for (let d = addDays(SESSION_DATE, -1); days.length < 8; d = addDays(d, -1))
      if (NYSE.sessionFor(d)) days.unshift(d);
    history = days.flatMap((date, k) =>
      syntheticDayBars({ date, symbols: SYMBOLS, minutes: 390, seed: 100 + k }),
    );
    const day = syntheticDayBars({ date: SESSION_DATE, symbols: SYMBOLS, minutes: 390, seed: 23 });
    await upsertBars(db.pool, [...history, ...day], 'test-synthetic', true);
    // the champion: XGBoost on the compact set, trained on the history only, exported to ONNX and registered
    const cols = columns(history);
    const mats = featureMatrices(COMPACT_FEATURE_SET, cols);
    const from = history[0]!.ts;
    const to = sessionBounds(SESSION_DATE).open;
    const ds = windowDataset(mats, COMPACT_FEATURE_SET, 6, from, to);
    training = { ds, from, to };
    const served = await trainAndServe(registry, {
      id: 'parity-xgb-1',
      name: 'parity',
      spec: DEFAULT_XGBOOST_SPEC,
      dataset: ds,
      trainFrom: from,
      trainTo: to,
    });
    modelId = served.id;
    await served.close();
    await registry.promote(modelId);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const limits: OperatorLimits = {
    maxPositionFraction: 0.05,
    maxGrossExposure: 1,
    dailyLossLimit: 0.03,
    maxOrderNotional: 25_000,
    maxOrdersPerCycle: 200,
  };

  function columns(bars: readonly Bar[]): BarColumns[] {
    return SYMBOLS.map((s) =>
      barsToColumns(
        s,
        '1m',
        bars.filter((b) => b.symbol === s),
      ),
    );
  }

  const cases: Array<{ name: string; strategy: StrategySpec; minOrders: number }> = [
    {
      name: 'model-signal-5m',
      strategy: { name: 'model-signal', weight: 0.04, timeframe: '5m' },
      minOrders: 20,
    },
    {
      name: 'reference-ai-5m',
      strategy: {
        name: 'reference-ai',
        timeframes: ['5m'],
        params: {
          tierConfidence: [0.9, 0.7, 0.51],
          minConsensus: 0.5,
          volumeConfirm: 0,
          minRewardRisk: 0.1,
          universe: {
            minPrice: 1,
            minDollarVolume: 0,
            activeRelVolume: 0,
            activeAtrFraction: 0,
            focusTopN: 5,
          },
        },
      },
      minOrders: 4,
    },
  ];

  for (const c of cases)
    test(`when ${c.name} trades the champion through Temporal and in the backtester, then both send the same orders`, async () => {
      const sessionId = `sess-model-${c.name}`;
      const env = await startSessionEnv(
        t,
        db,
        SYMBOLS,
        { keyId: 'PKMODEL', secret: 'model-secret' },
        undefined,
        undefined,
        undefined,
        sessionModelPorts({ pool: db.pool, artifactDir: dir }),
      );
      let session: SessionResult;
      try {
        const input = sessionInput(env.workers, SYMBOLS, {
          sessionId,
          limits,
          strategy: c.strategy,
          seed: 7,
          modelId,
        });
        session = (await t.client.workflow.execute('tradingSessionWorkflow', {
          taskQueue: input.taskQueues!.io!,
          workflowId: `test-model-parity-${sessionId}-${Date.now()}`,
          args: [input],
        })) as SessionResult;
      } finally {
        await env.close();
      }

      // the backtest: the same bars from where the session's warm-up starts, the model scored in one batch
      const { open, close } = sessionBounds(SESSION_DATE);
      const tradeFrom = open + 60_000;
      const strategy = createStrategy(c.strategy);
      const warm = warmUpFrom(strategy, tradeFrom, SYMBOLS, featureWarmUpSessions(COMPACT_FEATURE_SET));
      const bars = await loadBarsFromStore(db.pool, {
        symbols: SYMBOLS,
        timeframe: '1m',
        from: warm,
        to: close,
      });
      const series = columns(bars);
      const served = await loadServedModel(registry, modelId);
      const mats = featureMatrices(COMPACT_FEATURE_SET, series);
      const scored = await scoreSeries(served, COMPACT_FEATURE_SET, mats, {
        fromTs: -Infinity,
        toTs: Infinity,
      });
      const rows = journalRows(scored, mats);
      await served.close();
      const backtest = runBacktest({
        strategy,
        series,
        startingCash: 100_000,
        seed: 7,
        session: sessionId,
        risk: withOperatorLimits(limits),
        predictions: new PrecomputedPort(`model:${modelId}`, scored),
        tradeFrom,
      });

      assert.ok(backtest.submitted >= c.minOrders, `enough orders to compare (${backtest.submitted})`);
      assert.equal(session.orderHash, backtest.orderHash, 'order-list hash');
      assert.equal(session.ordersPlaced, backtest.submitted - backtest.rejectedByBroker, 'orders placed');
      // every decision of the day scored the champion; the journal holds them with the inputs' hash
      const journaled = await predictionsOf(db.pool, modelId, tradeFrom, close + 1, sessionId);
      const expected = rows.filter((r) => r.ts >= tradeFrom && r.ts <= close);
      assert.equal(journaled.length, expected.length, 'one journaled prediction per symbol and 5m close');
      const key = (r: { symbol: string; ts: number; inputsHash: string; score: number }) =>
        `${r.symbol}@${r.ts}:${r.inputsHash}:${r.score.toFixed(6)}`;
      assert.deepEqual(
        journaled.map(key).sort(),
        expected.map(key).sort(),
        'same inputs and scores online and offline',
      );
    });

  test('when the champion is rolled back mid-session, then the running session trades the reinstated model from its next decision', async () => {
    // a second model of the name becomes champion; the session starts on it (pinned id)
    const second = await trainAndServe(registry, {
      id: 'parity-xgb-2',
      name: 'parity',
      spec: { ...DEFAULT_XGBOOST_SPEC, rounds: 15 },
      dataset: training.ds,
      trainFrom: training.from,
      trainTo: training.to,
    });
    await second.close();
    await registry.promote(second.id);
    const sessionId = 'sess-model-rollback';
    const env = await startSessionEnv(
      t,
      db,
      SYMBOLS,
      { keyId: 'PKMODEL', secret: 'model-secret' },
      undefined,
      undefined,
      undefined,
      sessionModelPorts({ pool: db.pool, artifactDir: dir }),
    );
    try {
      const input = sessionInput(env.workers, SYMBOLS, {
        sessionId,
        limits,
        strategy: { name: 'model-signal', weight: 0.04, timeframe: '5m' },
        modelId: second.id,
        maxBars: 60,
        replayBarDelayMs: 400,
      });
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `test-model-rollback-${Date.now()}`,
        args: [input],
      });
      while ((await handle.query(statusQuery)).state.nextBar < 20)
        await new Promise((r) => setTimeout(r, 200));
      // the operator rolls the name back with the CLI: the registry and the running session follow
      const cli = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'cli/main.ts', 'models', 'rollback', '--name', 'parity', '--reason', 'bad fills'],
        {
          cwd: resolve(__dirname, '../..'),
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            TRADER_ARTIFACT_DIR: dir,
            TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
          },
        },
      );
      assert.match(cli.stderr, new RegExp(`session ${handle.workflowId}: now trades ${modelId}`));
      assert.equal((await registry.champion('parity'))!.id, modelId);
      const switchedAt = (await handle.query(statusQuery)).state.lastDecisionTs!;
      await handle.result();
      const status = await handle.query(statusQuery);
      assert.equal(status.modelId, modelId);
      assert.equal(status.decidedBy, `model-signal on model ${modelId}`);
      assert.ok(
        status.state.controls.some((c) => c.action === 'setModel'),
        'the switch is a recorded control',
      );
      // the journal: the second model's predictions up to the switch, the reinstated champion's after it
      const { rows } = await db.pool.query<{ model_id: string; ts: string }>(
        `select model_id, ts from predictions where source = $1 and role = 'traded' order by ts`,
        [sessionId],
      );
      const before = rows.filter((r) => Number(r.ts) <= switchedAt);
      const after = rows.filter((r) => Number(r.ts) > switchedAt + 5 * 60_000);
      assert.ok(
        before.length > 0 && after.length > 0,
        `predictions on both sides of the switch: ${rows.length}`,
      );
      assert.ok(
        before.every((r) => r.model_id === second.id),
        'before: the rolled-back model',
      );
      assert.ok(
        after.every((r) => r.model_id === modelId),
        'after: the reinstated champion',
      );
    } finally {
      await env.close();
    }
  });
});
