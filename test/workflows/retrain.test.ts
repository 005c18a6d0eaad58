import { loadServedModel } from '../../src/models/serving/served-model';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { createModelIoActivities } from '../../activities/models-io.activities';
import { createTrainingActivities } from '../../activities/training.activities';
import type { RetrainInput, RetrainResult, RetrainXGBoostSpec } from '../../contracts/retrain';
import { deserializeDataset } from '../../src/models/dataset';
import type { Alert } from '../../src/monitoring/alerting/alert';
import { tradingMetrics } from '../../src/monitoring/metrics';
import { OnnxScorer, maxAbsDiff } from '../../src/models/onnx/serving';
import { ModelRegistry } from '../../src/models/registry/registry';
import { Booster, DMatrix } from '../../src/models/xgboost';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { sharedDataOrSkip } from '../support/shared-data';
import {
  connectTemporal,
  recordHistory,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../support/temporal';

describe('RetrainWorkflow on real minute data (SPY 2011, pyalgotrade_ninjatrader)', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'retrain-test-'));
  });
  after(async () => {
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  test('when retrain runs twice, then each model is registered with OOS metrics and ONNX parity, the first is gated against staying flat and the second against the champion (or flat)', async (tc) => {
    const dataDir = sharedDataOrSkip(tc);
    if (!dataDir) return;
    const alerts: Alert[] = [];
    const ioQueue = uniqueQueue('retrain-io');
    const trainingQueue = uniqueQueue('retrain-training');
    const ioWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: ioQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createModelIoActivities({
        pool: db.pool,
        artifactDir,
        sharedDataDir: dataDir,
        log: () => undefined,
        alerter: { send: async (alert: Alert) => void alerts.push(alert) },
      }),
    });
    const trainingWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: trainingQueue,
      activities: createTrainingActivities({ pool: db.pool, artifactDir, log: () => undefined }),
    });
    const base: RetrainInput & { spec: RetrainXGBoostSpec } = {
      name: 'spy-5m',
      source: { kind: 'shared-csv', path: 'pyalgotrade_ninjatrader/1min/SPY.csv.gz', symbol: 'SPY' },
      spec: {
        kind: 'xgboost',
        objective: 'dollar_profit',
        rounds: 15,
        params: { max_depth: 3, eta: 0.1, nthread: 1, seed: 7 },
        costRate: 0.0001,
        positionPenalty: 0.0005,
      },
      maxRows: 6000,
      folds: 3,
      taskQueues: { io: ioQueue, training: trainingQueue },
    };
    /** trader_training_runs_total by outcome for the model family, in this process (the training worker's) */
    const runsByOutcome = async () => {
      const out: Record<string, number> = {};
      for (const v of (await tradingMetrics.trainingRuns.get()).values)
        if (v.labels.model === 'xgboost') out[v.labels.outcome!] = (out[v.labels.outcome!] ?? 0) + v.value;
      return out;
    };
    const runsBefore = await runsByOutcome();
    const [first, second] = await ioWorker.runUntil(
      trainingWorker.runUntil(async () => {
        const h1 = await t.client.workflow.start<(i: RetrainInput) => Promise<RetrainResult>>(
          'retrainWorkflow',
          {
            taskQueue: ioQueue,
            workflowId: `retrain-1-${ioQueue}`,
            args: [base],
          },
        );
        const r1 = await h1.result();
        await recordHistory(h1, 'retrain');
        const r2 = await t.client.workflow.execute<(i: RetrainInput) => Promise<RetrainResult>>(
          'retrainWorkflow',
          {
            taskQueue: ioQueue,
            workflowId: `retrain-2-${ioQueue}`,
            args: [{ ...base, spec: { ...base.spec, objective: 'squared_error' } }],
          },
        );
        return [r1, r2] as const;
      }),
    );

    // First model: no champion yet → gated against staying flat; parity within 1e-5; OOS metrics present.
    assert.match(first.gate.reason, /no champion yet, so the baseline is staying flat/);
    assert.equal(first.decision, first.gate.promote ? 'promoted' : 'rejected');
    assert.ok(first.parityMaxAbsDiff <= 1e-5, `parity ${first.parityMaxAbsDiff}`);
    assert.ok(Number.isFinite(first.oos.netPnl) && first.oos.trades > 0);

    // Second model: judged by the stated test against the champion (the first, if promoted) on the same folds;
    // the registry follows the decisions.
    assert.equal(second.gate.test, 'one-sided paired t-test on block-summed net P&L differences');
    assert.ok(second.gate.blocks > 1);
    assert.equal(second.decision, second.gate.promote ? 'promoted' : 'rejected');
    if (!first.gate.promote) assert.match(second.gate.reason, /no champion yet/);
    const registry = new ModelRegistry(db.pool, artifactDir);
    const m1 = (await registry.get(first.modelId))!;
    const m2 = (await registry.get(second.modelId))!;
    assert.equal(m1.status, !first.gate.promote ? 'rejected' : second.gate.promote ? 'retired' : 'champion');
    assert.equal(m2.status, second.gate.promote ? 'champion' : 'rejected');
    const championId = second.gate.promote ? second.modelId : first.gate.promote ? first.modelId : undefined;
    assert.equal(m2.dataHash, second.dataHash);
    assert.equal(m2.featureSet, 'models.minute-basic');
    assert.ok(m2.trainFrom < m2.trainTo);
    assert.equal((m2.metrics as { folds: unknown[] }).folds.length, 3);
    assert.match(m2.modelCard, /Out-of-sample/);

    // Serving: the ONNX artifact in ONNX Runtime reproduces the native booster on the dataset.
    const ds = deserializeDataset(readFileSync(join(artifactDir, 'datasets', `${m1.dataHash}.bin`)));
    const booster = Booster.fromBuffer(readFileSync(m1.artifacts.native!));
    const d = DMatrix.fromFloat32(ds.X, ds.nrow, ds.ncol);
    const native = booster.predict(d, { type: 'margin' });
    d.free();
    booster.free();
    const scorer = await OnnxScorer.create(readFileSync(m1.artifacts.onnx!), ds.ncol);
    const served = await scorer.score(ds.X, ds.nrow);
    await scorer.close();
    assert.ok(maxAbsDiff(served, native) <= 1e-5);

    // The champion by name is whichever model the gate left as champion, and it serves.
    const champ = await registry.champion('spy-5m');
    assert.equal(champ?.id, championId);
    if (champ) {
      const servedChampion = await loadServedModel(registry, champ.id);
      try {
        assert.equal((await servedChampion.score(ds.X.subarray(0, ds.ncol * 10), 10)).score.length, 10);
      } finally {
        await servedChampion.close();
      }
    }

    // The gate's decision on /metrics: one promoted or rejected run per decision.
    const runsAfter = await runsByOutcome();
    const moved = (o: string) => (runsAfter[o] ?? 0) - (runsBefore[o] ?? 0);
    const decided = [first.decision, second.decision];
    assert.equal(moved('promoted'), decided.filter((d) => d === 'promoted').length);
    assert.equal(moved('rejected'), decided.filter((d) => d === 'rejected').length);

    // Alert either way: one audit row per decision.
    const { rows } = await db.pool.query<{ action: string; subject: string }>(
      `select action, subject from audit_log where actor = 'workflow:retrainWorkflow' order by id`,
    );
    assert.deepEqual(rows, [
      { action: `model.${first.decision}`, subject: first.modelId },
      { action: `model.${second.decision}`, subject: second.modelId },
    ]);
    assert.deepEqual(
      alerts.map((a) => [a.severity, a.title]),
      [
        [first.decision === 'promoted' ? 'info' : 'warning', `Model ${first.decision}: spy-5m`],
        [second.decision === 'promoted' ? 'info' : 'warning', `Model ${second.decision}: spy-5m`],
      ],
    );
  });
});
