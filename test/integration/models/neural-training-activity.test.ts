import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createModelIoActivities } from '../../../activities/models-io.activities';
import { createTrainingActivities } from '../../../activities/training.activities';
import type { DatasetRef, RetrainModelSpec, TrainResultDto } from '../../../contracts/retrain';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataOrSkip } from '../../support/shared-data';

describe('neural-net training activity (training queue)', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'nn-act-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when LSTM training is retried with the same run key, then it resumes after the last checkpointed epoch and heartbeats each epoch', async (t) => {
    const dataDir = sharedDataOrSkip(t);
    if (!dataDir) return;
    const io = createModelIoActivities({
      pool: db.pool,
      artifactDir: dir,
      sharedDataDir: dataDir,
      log: () => undefined,
    });
    const training = createTrainingActivities({ pool: db.pool, artifactDir: dir, log: () => undefined });
    const dataset: DatasetRef = await new MockActivityEnvironment().run(io.buildRetrainDataset, {
      source: { kind: 'shared-csv' as const, path: 'lean_equity_usa/1min/SPY.csv.gz', symbol: 'SPY' },
      horizonMinutes: 5,
      maxRows: 600,
    });
    const beats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const epochsSeen = () =>
      beats.filter((b): b is { epoch: number } => typeof b === 'object' && b !== null).map((b) => b.epoch);
    const spec: RetrainModelSpec = {
      kind: 'lstm',
      window: 8,
      units: 4,
      epochs: 2,
      batchSize: 64,
      costRate: 1e-4,
    };
    const first: TrainResultDto = await env.run(training.trainRetrainModel, {
      runKey: 'nn-run-1',
      dataset,
      spec,
    });
    assert.equal(first.resumedFromRound, 0);
    assert.equal(first.rounds, 2);
    assert.deepEqual(epochsSeen(), [1, 2]);
    assert.ok(beats.length > 2, 'mini-batches heartbeat too, so a long epoch never looks like a dead worker');
    const saved = JSON.parse(readFileSync(first.modelPath, 'utf8')) as {
      state: { spec: { kind: string } };
      labelScale: number;
    };
    assert.equal(saved.state.spec.kind, 'lstm');
    assert.ok(saved.labelScale > 0);

    // A retry (same run key) asked for 3 epochs continues after epoch 2 and trains one more.
    const second: TrainResultDto = await env.run(training.trainRetrainModel, {
      runKey: 'nn-run-1',
      dataset,
      spec: { ...spec, epochs: 3 },
    });
    assert.equal(second.resumedFromRound, 2);
    assert.deepEqual(epochsSeen(), [1, 2, 3]);
  });

  test('when a neural spec is invalid, then the activity fails without retry naming the field', async (t) => {
    const dataDir = sharedDataOrSkip(t);
    if (!dataDir) return;
    const io = createModelIoActivities({
      pool: db.pool,
      artifactDir: dir,
      sharedDataDir: dataDir,
      log: () => undefined,
    });
    const training = createTrainingActivities({ pool: db.pool, artifactDir: dir, log: () => undefined });
    const dataset: DatasetRef = await new MockActivityEnvironment().run(io.buildRetrainDataset, {
      source: { kind: 'shared-csv' as const, path: 'lean_equity_usa/1min/SPY.csv.gz', symbol: 'SPY' },
      horizonMinutes: 5,
      maxRows: 300,
    });
    const spec = { kind: 'transformer', window: 4, dModel: 6, heads: 4, layers: 1, epochs: 1, costRate: 0 };
    await assert.rejects(
      new MockActivityEnvironment().run(training.trainRetrainModel, {
        runKey: 'nn-bad',
        dataset,
        spec: spec as RetrainModelSpec,
      }),
      (err: Error & { nonRetryable?: boolean }) =>
        /spec\.heads: dModel must be divisible by heads/.test(err.message) && err.nonRetryable === true,
    );
  });
});
