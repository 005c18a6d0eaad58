import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createDataActivities } from '../../../activities/data.activities';
import { backfillProgressQuery, type BackfillInput, type BackfillSummary } from '../../../contracts/backfill';
import { MarketDataRepository } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataDir } from '../../support/shared-data';
import {
  connectTemporal,
  TEST_TEMPORAL_ADDRESS,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';

const dir = sharedDataDir();
const REPO_ROOT = resolve(__dirname, '../../..');

// Three months of Binance minutes (≈130k rows, with real gaps and zero-volume minutes), small batches so
// the kill lands mid-chunk, between staged batches; the first merged chunk triggers it.
const input: BackfillInput = {
  symbols: ['BTCUSDT'],
  timeframes: ['1m'],
  fromMs: Date.UTC(2017, 8, 1),
  toMs: Date.UTC(2017, 11, 1),
  source: { kind: 'csv', dataset: 'binance_spot' },
  maxParallel: 2,
  batchLines: 2_000,
};

async function fingerprint(db: TestDatabase) {
  const repo = new MarketDataRepository(db.pool);
  const bars = await repo.barChecksum();
  const q = await db.pool.query<{ rule: string; n: string; md5: string }>(
    `select rule, count(*)::text as n, md5(string_agg(concat_ws('|', location, field, value, (extract(epoch from ts) * 1000)::bigint), ',' order by location, rule)) as md5
       from data_quality group by rule order by rule`,
  );
  return { bars, quality: q.rows };
}

function startWorker(dbUrl: string, taskQueue: string): Promise<ChildProcess> {
  const child = spawn('npx', ['tsx', 'test/support/data-worker.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      TASK_QUEUE: taskQueue,
      SHARED_DATA_DIR: dir,
      TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) ok(child);
    });
    child.on('exit', (code) => fail(new Error(`data-worker exited early with ${code}`)));
  });
}

/** SIGKILL the whole process group (npx → tsx → node), like an OOM kill or a pulled plug. */
function killHard(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    child.on('exit', () => ok());
    process.kill(-child.pid!, 'SIGKILL');
  });
}

void describe(
  'BackfillWorkflow with a crashing io worker',
  { skip: dir ? false : 'SKIPPED: ../shared/data not found' },
  () => {
    let t: TemporalTestContext;
    let calm: TestDatabase;
    let crashed: TestDatabase;
    before(async () => {
      t = await connectTemporal();
      calm = await createTestDatabase('tt_bf_calm');
      crashed = await createTestDatabase('tt_bf_crash');
    });
    after(async () => {
      await t?.close();
      await calm?.drop();
      await crashed?.drop();
    });

    void test('when the io worker is SIGKILLed mid-way and restarted, then row counts and checksums equal an undisturbed run', async () => {
      // Undisturbed run, in process.
      const q1 = uniqueQueue('backfill-calm');
      const w1 = await Worker.create({
        connection: t.nativeConnection,
        taskQueue: q1,
        workflowsPath: WORKFLOWS_PATH,
        activities: createDataActivities({ repo: new MarketDataRepository(calm.pool), sharedDataDir: dir }),
      });
      const calmSummary = await w1.runUntil(
        t.client.workflow.execute('backfillWorkflow', { taskQueue: q1, workflowId: q1, args: [input] }),
      );
      assert.equal(calmSummary.failed.length, 0);
      assert.equal(calmSummary.completedChunks, 3);
      const expected = await fingerprint(calm);
      assert.ok(expected.bars.count > 100_000);

      // Same backfill: workflows in this process, activities in a child process that gets SIGKILLed.
      const q2 = uniqueQueue('backfill-crash');
      const w2 = await Worker.create({
        connection: t.nativeConnection,
        taskQueue: q2,
        workflowsPath: WORKFLOWS_PATH,
      });
      const summary = await w2.runUntil(async () => {
        let child = await startWorker(crashed.url, q2);
        const handle = await t.client.workflow.start('backfillWorkflow', {
          taskQueue: q2,
          workflowId: q2,
          args: [input],
        });
        let storedAtKill = 0;
        for (;;) {
          const { rows } = await crashed.pool.query<{ n: string }>('select count(*)::text as n from bars');
          storedAtKill = Number(rows[0]!.n);
          if (storedAtKill >= 10_000) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        await killHard(child);
        assert.ok(storedAtKill < expected.bars.count, 'the kill landed mid-way');
        const progress = await handle.query(backfillProgressQuery);
        assert.ok(progress.completedChunks < 3);
        child = await startWorker(crashed.url, q2);
        try {
          return (await handle.result()) as BackfillSummary;
        } finally {
          await killHard(child);
        }
      });

      assert.equal(summary.failed.length, 0);
      assert.equal(summary.completedChunks, 3);
      assert.equal(summary.rowsStored, calmSummary.rowsStored);
      assert.deepEqual(summary.findingsByRule, calmSummary.findingsByRule);
      assert.deepEqual(await fingerprint(crashed), expected);
      // The chunk the kill interrupted was retried (and, being atomic, started over).
      const history = await t.client.workflow.getHandle(q2).fetchHistory();
      const retried = history.events!.filter(
        (e) =>
          e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
      );
      assert.ok(retried.length >= 1, 'at least one chunk was retried after the kill');
    });

    void test('when the same backfill runs again, then nothing changes (idempotent)', async () => {
      const before = await fingerprint(calm);
      const q = uniqueQueue('backfill-again');
      const w = await Worker.create({
        connection: t.nativeConnection,
        taskQueue: q,
        workflowsPath: WORKFLOWS_PATH,
        activities: createDataActivities({ repo: new MarketDataRepository(calm.pool), sharedDataDir: dir }),
      });
      const s = await w.runUntil(
        t.client.workflow.execute('backfillWorkflow', { taskQueue: q, workflowId: q, args: [input] }),
      );
      assert.equal(s.rowsChanged, 0);
      assert.deepEqual(await fingerprint(calm), before);
      const { rows } = await calm.pool.query<{ n: string }>(
        'select count(distinct ingested_at)::text as n from bars',
      );
      assert.ok(Number(rows[0]!.n) >= 1);
    });
  },
);
