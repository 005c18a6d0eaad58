import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { createDataActivities } from '../../../activities/data.activities';
import type { BackfillInput, BackfillSummary } from '../../../contracts/backfill';
import { MarketDataRepository } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  connectTemporal,
  recordHistory,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';

const input: BackfillInput = {
  symbols: ['SPY', 'QQQ'],
  timeframes: ['1m', '1d'],
  fromMs: Date.UTC(2024, 0, 1),
  toMs: Date.UTC(2024, 2, 1),
  source: { kind: 'synthetic', seed: 3 },
  maxParallel: 3,
};

void describe('BackfillWorkflow on synthetic data', () => {
  let t: TemporalTestContext;
  let db: TestDatabase;
  let repo: MarketDataRepository;
  before(async () => {
    t = await connectTemporal();
    db = await createTestDatabase('tt_bf_gap');
    repo = new MarketDataRepository(db.pool);
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  const run = async (i: BackfillInput, historyName?: string): Promise<BackfillSummary> => {
    const taskQueue = uniqueQueue('backfill-gap');
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createDataActivities({ repo }),
    });
    return worker.runUntil(async () => {
      const handle = await t.client.workflow.start('backfillWorkflow', {
        taskQueue,
        workflowId: taskQueue,
        args: [i],
      });
      const summary = (await handle.result()) as BackfillSummary;
      // Recorded once for the replay test, so a non-deterministic change to the workflow fails CI.
      if (historyName) await recordHistory(handle, historyName);
      return summary;
    });
  };

  void test('when days are deleted and a gap-fill runs, then only the missing days are fetched and the data is whole again', async () => {
    const full = await run(input, 'backfill-gapfill');
    assert.equal(full.totalChunks, 8);
    assert.equal(full.completedChunks, 8);
    assert.equal(full.rowsStored, 2 * (41 * 390 + 41), '41 sessions in Jan+Feb 2024 per symbol');
    const whole = await repo.barChecksum();

    await db.pool.query(
      "delete from bars where symbol = 'SPY' and timeframe = '1m' and ts >= '2024-02-05' and ts < '2024-02-08'",
    );
    await db.pool.query("delete from bars where symbol = 'QQQ' and timeframe = '1d' and ts = '2024-01-10'");
    const fill = await run({ ...input, mode: 'gap-fill' });
    assert.equal(fill.mode, 'gap-fill');
    assert.equal(fill.totalChunks, 2, 'only the two chunks with holes are planned');
    assert.equal(fill.rowsStored, 3 * 390 + 1);
    assert.deepEqual(await repo.barChecksum(), whole);

    const again = await run({ ...input, mode: 'gap-fill' });
    assert.equal(again.totalChunks, 0, 'nothing is missing any more');
  });
});
