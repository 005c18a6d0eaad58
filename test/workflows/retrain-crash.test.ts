import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { createModelIoActivities } from '../../activities/models-io.activities';
import { createTrainingActivities } from '../../activities/training.activities';
import type { RetrainInput, RetrainResult } from '../../contracts/retrain';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { sharedDataOrSkip } from '../support/shared-data';
import {
  connectTemporal,
  TEST_TEMPORAL_ADDRESS,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../support/temporal';

const ROOT = resolve(__dirname, '../..');

describe('RetrainWorkflow survives a killed training worker', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'retrain-crash-'));
  });
  after(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  test('when the training worker is SIGKILLed mid-training, then a new worker resumes from the last checkpoint and the workflow finishes', async (tc) => {
    const dataDir = sharedDataOrSkip(tc);
    if (!dataDir) return;
    const ioQueue = uniqueQueue('crash-io');
    const trainingQueue = uniqueQueue('crash-training');
    const ioWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: ioQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createModelIoActivities({
        pool: db.pool,
        artifactDir,
        sharedDataDir: dataDir,
        log: () => undefined,
      }),
    });
    const input: RetrainInput = {
      name: 'spy-crash',
      source: { kind: 'shared-csv', path: 'pyalgotrade_ninjatrader/1min/SPY.csv.gz', symbol: 'SPY' },
      // Enough rounds that training is still running when the checkpoint poll sees progress.
      spec: {
        kind: 'xgboost',
        objective: 'dollar_profit',
        rounds: 400,
        params: { max_depth: 4, eta: 0.05, nthread: 1, seed: 3 },
        costRate: 0.0001,
        positionPenalty: 0.0005,
      },
      maxRows: 4000,
      folds: 2,
      taskQueues: { io: ioQueue, training: trainingQueue },
      trainHeartbeatTimeoutMs: 3000,
    };

    const result = await ioWorker.runUntil(async () => {
      const handle = await t.client.workflow.start<(i: RetrainInput) => Promise<RetrainResult>>(
        'retrainWorkflow',
        {
          taskQueue: ioQueue,
          workflowId: `retrain-crash-${ioQueue}`,
          args: [input],
        },
      );
      child = spawn('npx', ['tsx', 'test/support/training-worker.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
          TRAINING_TASK_QUEUE: trainingQueue,
          DATABASE_URL: db.url,
          TRADER_ARTIFACT_DIR: artifactDir,
        },
        stdio: ['ignore', 'ignore', 'ignore'],
        // Own process group: npx → tsx → node are killed together, like a machine losing the worker.
        detached: true,
      });
      // Wait until the child has checkpointed a few rounds, then kill it without any chance to clean up.
      let killedAt = 0;
      for (let i = 0; i < 2400 && killedAt === 0; i++) {
        const { rows } = await db.pool.query<{ round: number }>('select round from model_checkpoints');
        if (rows[0] && rows[0].round >= 5) killedAt = rows[0].round;
        else await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(killedAt >= 5, 'the child worker never checkpointed');
      const exited = new Promise((r) => child!.once('exit', r));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      const { rows } = await db.pool.query<{ round: number }>('select round from model_checkpoints');
      const lastCheckpoint = rows[0]!.round;
      assert.ok(lastCheckpoint < 400, 'training finished before the kill; the test proves nothing');

      // A replacement worker picks up the retry after the heartbeat timeout.
      const replacement = await Worker.create({
        connection: t.nativeConnection,
        taskQueue: trainingQueue,
        activities: createTrainingActivities({ pool: db.pool, artifactDir, log: () => undefined }),
      });
      const r = await replacement.runUntil(handle.result());
      return { r, lastCheckpoint };
    });

    assert.equal(result.r.resumedFromRound, result.lastCheckpoint);
    assert.ok(result.r.resumedFromRound >= 5);
    const { rows } = await db.pool.query<{ round: number }>('select round from model_checkpoints');
    assert.equal(rows[0]!.round, 400, 'the resumed run completed all rounds');
    assert.ok(['promoted', 'rejected'].includes(result.r.decision));
  });
});
