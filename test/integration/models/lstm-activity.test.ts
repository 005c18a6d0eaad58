import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createModelIoActivities } from '../../../activities/models-io.activities';
import { createTrainingActivities } from '../../../activities/training.activities';
import type { DatasetRef, LstmTrainInput, LstmTrainResult } from '../../../contracts/retrain';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataOrSkip } from '../../support/shared-data';

describe('LSTM training activity (training queue)', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'lstm-act-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when training is retried with the same run key, then it resumes after the last checkpointed epoch and heartbeats each epoch', async (t) => {
    const dataDir = sharedDataOrSkip(t);
    if (!dataDir) return;
    const io = createModelIoActivities({
      pool: db.pool,
      artifactDir: dir,
      sharedDataDir: dataDir,
      log: () => undefined,
    });
    const training = createTrainingActivities({ pool: db.pool, artifactDir: dir, log: () => undefined });
    const dsInput: Parameters<typeof io.buildRetrainDataset>[0] = {
      source: { kind: 'shared-csv', path: 'lean_equity_usa/1min/SPY.csv.gz', symbol: 'SPY' },
      horizonMinutes: 5,
      maxRows: 600,
    };
    const dataset: DatasetRef = await new MockActivityEnvironment().run(io.buildRetrainDataset, dsInput);
    const beats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const input: LstmTrainInput = {
      runKey: 'lstm-run-1',
      dataset,
      timesteps: 10,
      units: 4,
      epochs: 2,
      batchSize: 64,
    };
    const first: LstmTrainResult = await env.run(training.trainLstmModel, input);
    assert.equal(first.resumedFromEpoch, 0);
    assert.deepEqual(
      beats.map((b) => (b as { epoch: number }).epoch),
      [1, 2],
    );
    assert.ok(first.parityMaxAbsDiff <= 1e-5);
    assert.ok(first.samples > 100);
    // A retry (same run key) asked for 3 epochs continues after epoch 2 and trains one more.
    const second: LstmTrainResult = await env.run(training.trainLstmModel, { ...input, epochs: 3 });
    assert.equal(second.resumedFromEpoch, 2);
    assert.deepEqual(
      beats.map((b) => (b as { epoch: number }).epoch),
      [1, 2, 3],
    );
  });
});
