import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createModelIoActivities } from '../../../activities/models-io.activities';
import { createTrainingActivities } from '../../../activities/training.activities';
import type {
  DatasetRef,
  EvaluationDto,
  RetrainInput,
  RetrainModelSpec,
  RetrainResult,
} from '../../../contracts/retrain';
import { datasetBarMs, deserializeDataset, type Dataset } from '../../../src/models/dataset';
import { combine, performanceWeights } from '../../../src/models/ensemble/ensemble';
import { registerEnsemble } from '../../../src/models/ensemble/registered';
import { selectTfBackend } from '../../../src/models/nn/backend';
import { netFromState } from '../../../src/models/nn/nets';
import type { NetState } from '../../../src/models/nn/quantile-net';
import { gatherWindows, windowEndRows } from '../../../src/models/nn/windows';
import { maxAbsDiff } from '../../../src/models/onnx/serving';
import { ModelRegistry } from '../../../src/models/registry/registry';
import { walkForwardSplits } from '../../../src/models/validation/walk-forward';
import { confidences } from '../../../src/models/serving/confidence';
import { loadServedModel, type ServedModel } from '../../../src/models/serving/served-model';
import type { Alert } from '../../../src/monitoring/alerting/alert';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataDir, sharedDataOrSkip } from '../../support/shared-data';
import {
  connectTemporal,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';

const root = resolve(__dirname, '../../..');
const run = promisify(execFile);

/**
 * Every model family through retrainWorkflow on a real Temporal server and real minute data (SPY, lean_equity_usa):
 * trained, walk-forward evaluated, gated, registered with its ONNX parity, and served through `loadServedModel`
 * exactly as the trading kernel will serve it. Sizes are tiny: this proves the wiring, not the models.
 */
describe('retrainWorkflow trains, gates, registers and serves every model kind', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  let registry: ModelRegistry;
  let ioWorker: Worker;
  let trainingWorker: Worker;
  let running: Promise<unknown>;
  const alerts: Alert[] = [];
  const prefix = `${uniqueQueue('kinds')}-`;
  const queues = { io: `${prefix}io`, training: `${prefix}training` };
  const results = new Map<string, RetrainResult>();

  before(async () => {
    db = await createTestDatabase('tt_model_kinds');
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'retrain-kinds-'));
    registry = new ModelRegistry(db.pool, artifactDir);
    const dataDir = sharedDataDir();
    if (!dataDir) return;
    ioWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queues.io,
      workflowsPath: WORKFLOWS_PATH,
      activities: createModelIoActivities({
        pool: db.pool,
        artifactDir,
        sharedDataDir: dataDir,
        log: () => undefined,
        alerter: { send: async (a: Alert) => void alerts.push(a) },
      }),
    });
    trainingWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queues.training,
      activities: createTrainingActivities({ pool: db.pool, artifactDir, log: () => undefined }),
    });
    running = Promise.all([ioWorker.run(), trainingWorker.run()]);
  });
  after(async () => {
    ioWorker?.shutdown();
    trainingWorker?.shutdown();
    await running;
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  const base = (name: string, spec: RetrainModelSpec): RetrainInput => ({
    name,
    source: { kind: 'shared-csv', path: 'lean_equity_usa/1min/SPY.csv.gz', symbol: 'SPY' },
    spec,
    maxRows: 1500,
    folds: 2,
    taskQueues: queues,
  });

  const retrain = (input: RetrainInput) =>
    t.client.workflow.execute<(i: RetrainInput) => Promise<RetrainResult>>('retrainWorkflow', {
      taskQueue: queues.io,
      workflowId: `${input.name}-${prefix}`,
      args: [input],
    });

  /** The dataset a registered model was trained on, as the activities receive it. */
  const datasetRefOf = async (modelId: string): Promise<DatasetRef> => {
    const m = (await registry.get(modelId))!;
    return {
      path: join(artifactDir, 'datasets', `${m.dataHash}.bin`),
      dataHash: m.dataHash,
      symbol: m.symbol,
      featureSet: m.featureSet,
      featureSetVersion: m.featureSetVersion,
      featureNames: m.metrics.featureNames as string[],
      rows: 0,
      fromMs: m.trainFrom,
      toMs: m.trainTo,
      horizonMinutes: 5,
    };
  };

  const datasetOf = async (modelId: string): Promise<Dataset> => {
    const m = (await registry.get(modelId))!;
    return deserializeDataset(readFileSync(join(artifactDir, 'datasets', `${m.dataHash}.bin`)));
  };

  /** Windows of the dataset the model can score (every k-th), in the serving layout. */
  const windowsFor = (ds: Dataset, window: number, max = 300) => {
    const ok = windowEndRows(ds.decisionTs, window, datasetBarMs(ds.featureSet));
    const rows = [...ok.keys()].filter((r) => ok[r]);
    const pick = rows.filter((_, k) => k % Math.max(1, Math.floor(rows.length / max)) === 0).slice(0, max);
    return { rows: pick, X: gatherWindows(ds, pick, window) };
  };

  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: root,
      env: {
        ...process.env,
        TASK_QUEUE_PREFIX: prefix,
        DATABASE_URL: db.url,
        TRADER_ARTIFACT_DIR: artifactDir,
      },
      timeout: 300_000,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  const neural: RetrainModelSpec[] = [
    { kind: 'lstm', window: 8, units: 8, epochs: 2, batchSize: 128, seed: 1, costRate: 1e-4 },
    {
      kind: 'transformer',
      window: 8,
      dModel: 8,
      heads: 2,
      layers: 1,
      epochs: 2,
      batchSize: 128,
      seed: 1,
      costRate: 1e-4,
    },
    {
      kind: 'mtf-attention',
      window: 2,
      dModel: 8,
      heads: 2,
      epochs: 2,
      batchSize: 64,
      seed: 1,
      costRate: 1e-4,
    },
  ];
  for (const spec of neural) {
    const window = (spec as { window: number }).window;
    test(`when a ${spec.kind} model is retrained, then it is gated, registered with its kind, range and parity, and served by ONNX Runtime as tfjs computes it`, async (tc) => {
      if (!sharedDataOrSkip(tc)) return;
      // The multi-timeframe net reads a multi-timeframe feature set (5m base, 1h and 1d columns as tokens).
      const input = {
        ...base(`k-${spec.kind}`, spec),
        ...(spec.kind === 'mtf-attention' ? { featureSet: 'compact', maxRows: undefined } : {}),
      };
      const r = await retrain(input);
      results.set(spec.kind, r);
      assert.equal(r.kind, spec.kind);
      assert.equal(r.decision, r.gate.promote ? 'promoted' : 'rejected');
      assert.match(r.gate.reason, /no champion yet, so the baseline is staying flat/);
      assert.deepEqual(r.leakage, []);
      assert.ok(r.parityMaxAbsDiff <= 1e-5, `parity ${r.parityMaxAbsDiff}`);

      const m = (await registry.get(r.modelId))!;
      assert.equal(m.kind, spec.kind);
      assert.equal(m.status, r.decision === 'promoted' ? 'champion' : 'rejected');
      assert.ok(m.trainFrom < m.trainTo);
      assert.equal(m.featureSet, spec.kind === 'mtf-attention' ? 'features.compact' : 'models.minute-basic');
      assert.equal(m.featureImportance, null, 'a slot, not measured for neural nets yet');

      const served = await loadServedModel(registry, r.modelId);
      try {
        assert.equal(served.window, window);
        assert.equal(served.horizonMinutes, 5);
        assert.equal(served.horizonBars, spec.kind === 'mtf-attention' ? 1 : 5);
        assert.equal(served.runtime.executionProvider.name, 'cpu');
        assert.ok(served.parity!.reference.startsWith('tfjs-'));
        const ds = await datasetOf(r.modelId);
        const { rows, X } = windowsFor(ds, window);
        const out = await served.score(X, rows.length);
        await selectTfBackend();
        const net = netFromState(
          (JSON.parse(readFileSync(m.artifacts.native!, 'utf8')) as { state: NetState }).state,
        );
        const q = net.predict(X, rows.length);
        net.dispose();
        const median = Float32Array.from(rows, (_, i) => q[i * 3 + 1]!);
        assert.ok(maxAbsDiff(out.score, median) <= 1e-5, 'served median = the training runtime median');
        for (let i = 0; i < rows.length; i++)
          assert.ok(out.lower![i]! <= out.score[i]! && out.score[i]! <= out.upper![i]!);
        const conf = confidences(out.score, out.lower!, out.upper!);
        assert.ok(conf.every((c) => c >= 0.5 && c <= 1));
      } finally {
        await served.close();
      }
    });
  }

  test('when `trader models retrain --kind gru` runs, then the workflow trains a GRU, and `models list/show/serving` show its kind, range and runtime', async (tc) => {
    if (!sharedDataOrSkip(tc)) return;
    const specFile = join(artifactDir, 'gru.json');
    writeFileSync(specFile, JSON.stringify({ kind: 'gru', window: 8, units: 8, epochs: 2, costRate: 1e-4 }));
    const common = [
      '--csv',
      'lean_equity_usa/1min/SPY.csv.gz',
      '--max-rows',
      '1500',
      '--folds',
      '2',
      '--wait',
    ];
    const r = await cli('models', 'retrain', '--name', 'k-gru', '--spec', specFile, ...common);
    assert.equal(r.code, 0, r.stderr);
    const id = /^(k-gru-\S+) \(gru\): (promoted|rejected)/m.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    results.set('gru', { modelId: id } as RetrainResult);
    const list = await cli('models', 'list', '--kind', 'gru');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id}.*gru.*\\d{4}-\\d\\d-\\d\\d\\.\\.\\d{4}-\\d\\d-\\d\\d`));
    const show = await cli('models', 'show', id);
    assert.match(show.stdout, /kind: gru/);
    assert.match(show.stdout, /training range: \d{4}-.*\.\. \d{4}-/);
    assert.match(show.stdout, /serving: window 8, horizon 5 min, output quantiles/);
    const serving = await cli('models', 'serving', id);
    assert.equal(serving.code, 0, serving.stderr);
    assert.match(serving.stdout, /input: 8 × 10 features of models\.minute-basic/);
    assert.match(serving.stdout, /runtime: onnxruntime on cpu \(CUDA not used: /);
  });

  test('when an XGBoost model is retrained, then its served interval is the spread of its walk-forward fold models and its gain importance is recorded', async (tc) => {
    if (!sharedDataOrSkip(tc)) return;
    const r = await retrain(
      base('k-xgb', {
        kind: 'xgboost',
        objective: 'dollar_profit',
        rounds: 10,
        params: { max_depth: 3, eta: 0.1, nthread: 1, seed: 7 },
        costRate: 1e-4,
        positionPenalty: 5e-4,
      }),
    );
    results.set('xgboost', r);
    assert.equal(r.kind, 'xgboost');
    assert.deepEqual(r.leakage, [], 'the honest features are not flagged');
    const m = (await registry.get(r.modelId))!;
    assert.ok(m.artifacts.intervals, 'fold models exported');
    assert.equal(Object.keys(m.featureImportance!.values).length, 10);
    assert.equal(m.featureImportance!.method, 'xgboost-gain');
    const served = await loadServedModel(registry, r.modelId);
    try {
      assert.equal(served.window, 1);
      assert.equal(served.scoreUnits, 'position-margin');
      const ds = await datasetOf(r.modelId);
      const out = await served.score(ds.X.subarray(0, 50 * ds.ncol), 50);
      assert.ok(out.lower && out.upper);
      let spread = 0;
      for (let i = 0; i < 50; i++) {
        assert.ok(out.lower[i]! <= out.score[i]! && out.score[i]! <= out.upper[i]!);
        spread += out.upper[i]! - out.lower[i]!;
      }
      assert.ok(spread > 0, 'fold models disagree somewhere');
    } finally {
      await served.close();
    }
  });

  test('when the training node sets XGBoost parameters (XGBOOST_DEVICE), then every walk-forward fold fit gets them, not only the final model', async (tc) => {
    if (!sharedDataOrSkip(tc)) return;
    const m = (await registry.get(results.get('xgboost')!.modelId))!;
    const dataset = await datasetRefOf(m.id);
    const input = {
      name: 'k-node-params',
      dataset,
      spec: m.spec as RetrainModelSpec,
      folds: 2,
      embargoMinutes: 30,
      alpha: 0.05,
    };
    // eta = 0 is observable: no tree moves a score, so every fold's out-of-sample scores are constant (IC 0).
    const frozen = createTrainingActivities({
      pool: db.pool,
      artifactDir,
      xgboostParams: { eta: 0 },
      log: () => undefined,
    });
    const normal = createTrainingActivities({ pool: db.pool, artifactDir, log: () => undefined });
    const a: EvaluationDto = await new MockActivityEnvironment().run(frozen.evaluateRetrainModel, input);
    const b: EvaluationDto = await new MockActivityEnvironment().run(normal.evaluateRetrainModel, input);
    assert.deepEqual(
      a.challenger.folds.map((f) => f.ic),
      [0, 0],
    );
    assert.ok(
      b.challenger.folds.some((f) => f.ic !== 0),
      'without the node parameter the folds learn',
    );
  });

  test('when the champion is a sequence model and the challenger a row model, then both are retrained per fold and scored on the same rows (those the longer window allows)', async (tc) => {
    if (!sharedDataOrSkip(tc)) return;
    const lstmId = results.get('lstm')!.modelId;
    await registry.promote(lstmId);
    const dataset = await datasetRefOf(lstmId);
    const xgb = (await registry.get(results.get('xgboost')!.modelId))!;
    const training = createTrainingActivities({ pool: db.pool, artifactDir, log: () => undefined });
    const ev: EvaluationDto = await new MockActivityEnvironment().run(training.evaluateRetrainModel, {
      name: 'k-lstm',
      dataset,
      spec: xgb.spec as RetrainModelSpec,
      folds: 2,
      embargoMinutes: 30,
      alpha: 0.05,
    });
    assert.equal(ev.champion?.id, lstmId);
    const ds = await datasetOf(lstmId);
    const ok = windowEndRows(ds.decisionTs, 8, 60_000);
    const testRows = walkForwardSplits(ds.decisionTs, ds.labelEndTs, {
      folds: 2,
      embargoMs: 30 * 60_000,
    }).flatMap((f) => f.test);
    const expected = testRows.filter((r) => ok[r]).length;
    assert.equal(
      ev.challenger.folds.reduce((a, f) => a + f.testRows, 0),
      expected,
    );
    assert.ok(expected < testRows.length, 'rows without a full window are left out for both models');
    assert.ok(ev.gate.blocks > 0);
    assert.doesNotMatch(ev.gate.reason, /no champion yet/);
  });

  test('when a leakage canary (a feature built from the future return) is in the dataset, then the retrain pipeline catches it and refuses the model although it looks excellent', async (tc) => {
    if (!sharedDataOrSkip(tc)) return;
    const before = alerts.length;
    const r = await retrain({
      ...base('k-canary', {
        kind: 'xgboost',
        objective: 'dollar_profit',
        rounds: 10,
        params: { max_depth: 3, eta: 0.1, nthread: 1, seed: 7 },
        costRate: 1e-4,
        positionPenalty: 5e-4,
      }),
      leakageCanary: true,
    });
    assert.deepEqual(
      r.leakage!.map((f) => f.feature),
      ['canary_future_return'],
    );
    assert.ok(r.leakage![0]!.ic > 0.9);
    // It would pass any performance test: the refusal is what stops it.
    assert.ok(r.oos.hitRate > 0.8, `hit rate with the canary ${r.oos.hitRate}`);
    assert.equal(r.decision, 'rejected');
    assert.equal(r.gate.promote, false);
    assert.match(r.gate.reason, /^refused: leakage — canary_future_return/);
    const m = (await registry.get(r.modelId))!;
    assert.equal(m.status, 'rejected');
    assert.equal(await registry.champion('k-canary'), undefined);
    assert.match(m.modelCard, /REFUSED: leakage — canary_future_return/);
    assert.deepEqual(
      alerts.slice(before).map((a) => [a.severity, a.title]),
      [['warning', 'Model rejected: k-canary']],
    );
  });

  test('when registered models are combined, then the served ensemble weights them by recent OOS performance and trades only with the minimum consensus', async (tc) => {
    if (!sharedDataOrSkip(tc)) return;
    const ids = ['lstm', 'transformer', 'gru', 'xgboost'].map((k) => results.get(k)?.modelId);
    assert.ok(ids.every(Boolean), 'the kinds above ran');
    await assert.rejects(
      registerEnsemble(registry, {
        name: 'mix',
        spec: { kind: 'ensemble', members: [ids[0], results.get('mtf-attention')!.modelId], minConsensus: 2 },
      }),
      /ensemble\.members: .* uses feature set features\.compact .* must share one/,
    );
    await assert.rejects(
      registerEnsemble(registry, { name: 'mix', spec: { kind: 'ensemble', members: ids, minConsensus: 5 } }),
      /ensemble\.minConsensus: minConsensus cannot exceed the number of members/,
    );
    const rec = await registerEnsemble(registry, {
      name: 'mix',
      spec: { kind: 'ensemble', members: ids, minConsensus: 3 },
    });
    assert.equal(rec.kind, 'ensemble');
    const ens = await loadServedModel(registry, rec.id);
    const members: ServedModel[] = [];
    try {
      assert.equal(ens.kind, 'ensemble');
      assert.equal(ens.window, 8, 'the longest member window');
      const ds = await datasetOf(results.get('lstm')!.modelId);
      const { rows, X } = windowsFor(ds, 8, 200);
      const out = await ens.score(X, rows.length);
      // The same rule by hand: each member's score as a z-score of its OOS scores, Sharpe weights, 3 of 4 agree.
      const recs = await Promise.all(ids.map((id) => registry.get(id!)));
      const w = performanceWeights(
        recs.map((m) => ({
          id: m!.id,
          recentOosPnl: (m!.metrics.oosPnlByDay as Array<[number, number]>).map(([, p]) => p),
        })),
        20,
      );
      assert.deepEqual(
        ens.members.map((m) => m.weight),
        w,
      );
      const cols: Float32Array[] = [];
      for (const id of ids) {
        const m = await loadServedModel(registry, id!);
        members.push(m);
        const sub = new Float32Array(rows.length * m.window * ds.ncol);
        for (let i = 0; i < rows.length; i++)
          sub.set(
            X.subarray((i * 8 + 8 - m.window) * ds.ncol, (i + 1) * 8 * ds.ncol),
            i * m.window * ds.ncol,
          );
        const sd = recs[cols.length]!.metrics.oosScoreSd as number;
        cols.push(Float32Array.from((await m.score(sub, rows.length)).score, (s) => s / sd));
      }
      let traded = 0;
      for (let i = 0; i < rows.length; i++) {
        const d = w.every((x) => x === 0)
          ? { score: 0, consensus: false }
          : combine(
              cols.map((c) => c[i]!),
              w,
              { minConsensus: 3 },
            );
        assert.ok(Math.abs(out.score[i]! - d.score) <= 1e-5, `row ${i}`);
        if (d.consensus) traded++;
        else assert.equal(out.score[i], 0, 'no consensus: flat');
      }
      assert.ok(traded <= rows.length);
    } finally {
      await ens.close();
      await Promise.all(members.map((m) => m.close()));
    }
  });
});
