import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { createSkeletonActivities } from '../../activities/skeleton.activities';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  connectTemporal,
  recordHistory,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../support/temporal';

describe('walking skeleton on a real Temporal server and real Postgres', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
  });
  after(async () => {
    await t.close();
    await db.drop();
  });

  test('when the skeleton workflow runs, then its activity writes to Postgres once and the result comes back', async () => {
    const taskQueue = uniqueQueue('skeleton');
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createSkeletonActivities({ pool: db.pool }),
    });
    const workflowId = `skeleton-test-${taskQueue}`;
    const result = await worker.runUntil(async () => {
      const handle = await t.client.workflow.start('skeletonWorkflow', {
        taskQueue,
        workflowId,
        args: [{ message: '  hello  ' }],
      });
      const r = await handle.result();
      await recordHistory(handle, 'skeleton');
      return r;
    });
    assert.deepEqual(result, { pingId: result.pingId, stored: 'hello', rowsForWorkflow: 1 });
    const { rows } = await db.pool.query('select workflow_id, message from skeleton_pings');
    assert.deepEqual(rows, [{ workflow_id: workflowId, message: 'hello' }]);
  });

  test('when the message is empty, then the workflow fails with a non-retryable validation error', async () => {
    const taskQueue = uniqueQueue('skeleton');
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createSkeletonActivities({ pool: db.pool }),
    });
    await worker.runUntil(async () => {
      await assert.rejects(
        t.client.workflow.execute('skeletonWorkflow', {
          taskQueue,
          workflowId: `sk-empty-${taskQueue}`,
          args: [{ message: '   ' }],
        }),
        (err: Error & { cause?: Error & { cause?: Error } }) => {
          assert.match(String(err.cause?.cause?.message ?? err.cause?.message), /message: must not be empty/);
          return true;
        },
      );
    });
  });
});
