import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runModelBacktest, type ModelBacktest } from '../../../src/backtest/model-backtest';
import { runBacktest } from '../../../src/backtest/engine';
import { baselineRow, deflatedSharpe, curveFrom } from '../../../src/backtest/scoreboard';
import { periodReturns } from '../../../src/backtest/metrics';
import { DAILY_FEATURE_SET } from '../../../src/features/sets';
import { PrecomputedPort } from '../../../src/models/serving/model-port';
import { ModelRegistry } from '../../../src/models/registry/registry';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { ModelSignalStrategy } from '../../../src/strategy/model-signal';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { plantedDailyBars } from '../../support/planted-bars';

const SYMBOLS = ['PLA', 'PLB', 'PLC', 'PLD', 'PLE', 'PLF'];
const MONTH = 30 * 86_400_000;

/**
 * Acceptance 1 of issue 14: on seeded synthetic daily bars with a planted AR(1) component (r_t = −0.2·r_{t−1} +
 * noise), the walk-forward XGBoost model backtest (each half-year's model trained on the two years before,
 * registered, exported to ONNX and served) trades its predictions through the kernel and beats the indicator-only
 * strategy and flat after costs, capturing at least half of the oracle's net P&L (the same strategy trading the true
 * component); with the component removed (φ = 0) its result is indistinguishable from zero.
 */
describe('walk-forward model backtest on a planted signal', () => {
  let db: TestDatabase;
  let dir: string;
  let registry: ModelRegistry;

  before(async () => {
    db = await createTestDatabase('tt_planted');
    dir = mkdtempSync(join(tmpdir(), 'planted-'));
    registry = new ModelRegistry(db.pool, dir);
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const strategy = () => new ModelSignalStrategy({ weight: 0.04 }, '1d');
  async function run(phi: number, name: string) {
    const planted = plantedDailyBars({
      symbols: SYMBOLS,
      from: '2012-01-03',
      days: 1500,
      phi,
      sigma: 0.012,
      seed: 11,
    });
    const first = planted.series[0]!.ts[0]!;
    const last = planted.series[0]!.ts[planted.series[0]!.ts.length - 1]! + 86_400_000;
    const mb = await runModelBacktest({
      series: planted.series,
      set: DAILY_FEATURE_SET,
      registry,
      model: {
        kind: 'walk-forward',
        spec: DEFAULT_XGBOOST_SPEC,
        name,
        horizonBars: 1,
        retrainEveryMs: 6 * MONTH,
        trainWindowMs: 24 * MONTH,
      },
      strategy,
      indicatorStrategy: () => new ReferenceAiStrategy(['1d']),
      base: { series: planted.series, startingCash: 100_000, seed: 1, session: 'bt' },
      from: first,
      to: last,
      trials: 1,
      metrics: {},
    });
    return { planted, mb };
  }

  const row = (mb: ModelBacktest, name: string) => mb.scoreboard.baselines.find((b) => b.name === name)!;

  test('the model beats indicator-only and flat after costs and captures at least half of the oracle', async (t) => {
    const { planted, mb } = await run(0.2, 'planted');
    const sb = mb.scoreboard;
    const model = sb.baselines[0]!;
    const oracleResult = runBacktest({
      series: planted.series,
      startingCash: 100_000,
      seed: 1,
      session: 'bt',
      strategy: strategy(),
      predictions: new PrecomputedPort('oracle', planted.oracle),
      tradeFrom: sb.tradeFrom,
    });
    const oracle = baselineRow('oracle', 'the true component', oracleResult, sb.tradeFrom, {});
    const indicator = row(mb, 'indicator-only');
    const report = `model ${model.netProfit.toFixed(0)} (${model.trades} trades, fees ${model.costs.toFixed(0)}), oracle ${oracle.netProfit.toFixed(0)}, indicator-only ${indicator.netProfit.toFixed(0)}, IC ${sb.overall.rankIc?.toFixed(3)}, hit ${sb.overall.hitRate?.toFixed(3)}`;
    t.diagnostic(report);
    assert.ok(sb.windows.length >= 6, `walk-forward windows: ${sb.windows.length}`);
    assert.ok(model.trades > 100, report);
    assert.ok(model.costs > 0, `costs were charged: ${report}`);
    assert.ok(oracle.netProfit > 0, `the oracle makes money after costs: ${report}`);
    assert.ok(model.netProfit > 0, `beats flat: ${report}`);
    assert.ok(model.netProfit > indicator.netProfit, `beats indicator-only: ${report}`);
    assert.ok(model.netProfit >= 0.5 * oracle.netProfit, `captures >= 50% of the oracle: ${report}`);
    // every traded model id is a registered window model, each trading only after its own training range
    for (const w of sb.windows) {
      const rec = await registry.get(w.modelId);
      assert.ok(rec, `${w.modelId} is registered`);
      assert.ok(
        rec!.trainTo <= w.testFrom,
        `${w.modelId} trained on data up to ${rec!.trainTo}, tested from ${w.testFrom}`,
      );
    }
    for (const t of mb.result.trades)
      assert.ok(t.entryTs >= sb.tradeFrom, 'no trade before the first window');
    assert.ok(sb.overall.rankIc! > 0.05, report);
  });

  test('with the component removed the result is indistinguishable from zero', async (tc) => {
    const { mb } = await run(0, 'null');
    const sb = mb.scoreboard;
    const c = curveFrom(mb.result, sb.tradeFrom);
    const pr = periodReturns(c.ts, c.equity, {});
    const d = deflatedSharpe(pr.returns, 1, pr.periodsPerYear)!;
    const t = d.sharpe * Math.sqrt(d.observations);
    const report = `net ${sb.baselines[0]!.netProfit.toFixed(0)}, daily Sharpe t ${t.toFixed(2)}, IC ${sb.overall.rankIc?.toFixed(4)} (window t ${sb.overall.icTStat?.toFixed(2)})`;
    tc.diagnostic(report);
    assert.ok(sb.baselines[0]!.trades > 100, `it traded: ${report}`);
    assert.ok(Math.abs(t) < 2, `P&L not distinguishable from zero: ${report}`);
    assert.ok(Math.abs(sb.overall.icTStat ?? 0) < 2, `IC not distinguishable from zero: ${report}`);
    assert.ok(d.probability < 0.95, `not significant: ${report}`);
  });
});
