import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { createDataActivities } from '../../activities/data.activities';
import { createSkeletonActivities } from '../../activities/skeleton.activities';
import { MarketDataRepository } from '../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { connectTemporal, uniqueQueue, WORKFLOWS_PATH, type TemporalTestContext } from '../support/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

/**
 * A workflow that fails prints its cause chain (type and message of each link), not only "Workflow execution
 * failed": the CLI's one waiting helper (cli/workflow-result.ts) against a real io worker.
 */
describe('CLI commands that wait on a workflow print the failure cause', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let worker: Worker;
  let running: Promise<void>;
  const prefix = `${uniqueQueue('cli-fail')}-`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cli-fail-data-'));

  before(async () => {
    db = await createTestDatabase('tt_cli_fail');
    t = await connectTemporal();
    worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: `${prefix}io`,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        ...createSkeletonActivities({ pool: db.pool }),
        ...createDataActivities({ repo: new MarketDataRepository(db.pool), sharedDataDir: dataDir }),
      },
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await t?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: root,
      env: { ...process.env, TASK_QUEUE_PREFIX: prefix, DATABASE_URL: db.url },
      timeout: 120_000,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  test('when the skeleton activity refuses its input, then `trader skeleton` exits 1 with the ValidationError and the activity named', async () => {
    const r = await cli('skeleton', '--message', '');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /workflow skeleton-\S+ failed: message: must not be empty \(ValidationError\)/);
    assert.match(r.stderr, /caused by: ActivityFailure \[activity recordPing[^\]]*\]: Activity task failed/);
    assert.match(r.stderr, /caused by: ValidationError \[non-retryable\]: message: must not be empty/);
  });

  test('when a backfill cannot plan its source, then `trader backfill` exits 1 naming the source problem', async () => {
    const r = await cli(
      'backfill',
      '--symbols',
      'SPY',
      '--from',
      '2024-01-03',
      '--to',
      '2024-01-04',
      '--source',
      'csv:no_such_dataset',
    );
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /workflow backfill-\S+ failed: .*no_such_dataset.* \(ValidationError\)/);
    assert.match(r.stderr, /activity planBackfill/);
    assert.doesNotMatch(r.stderr, /^error: Workflow execution failed$/m);
  });
});
