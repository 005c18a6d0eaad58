/**
 * Acceptance 4 of continuous learning (issue 17): the Bayesian hyperparameter search survives SIGKILLs of the
 * training worker and resumes without repeating a finished trial. The training worker is the real one
 * (`workers/training.ts`, the activities workers/ wires on the training queue), in its own process group, killed
 * twice with SIGKILL while trials run; the trials it was running time out on their heartbeat and run again on
 * the next worker, every finished trial stays finished (`hpo_trial_runs` counts every start of every trial).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { createLearningActivities } from '../../activities/learning.activities';
import { createModelIoActivities } from '../../activities/models-io.activities';
import type { HpoInput, HpoResult } from '../../contracts/learning';
import { upsertBars } from '../../src/storage/bar-store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { flipBars } from '../support/flip-bars';
import {
  connectTemporal,
  recordHistory,
  TEST_TEMPORAL_ADDRESS,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../support/temporal';

const ROOT = resolve(__dirname, '../..');

describe('hyperparameter search survives killed training workers (acceptance 4)', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  const children: ChildProcess[] = [];
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'hpo-crash-'));
  });
  after(async () => {
    for (const c of children)
      if (c.pid && c.exitCode === null && c.signalCode === null)
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  test('when the training worker is SIGKILLed twice mid-search, then the search finishes every trial and no finished trial runs again', async () => {
    const data = flipBars({
      symbol: 'HPO',
      from: '2024-03-01',
      days: 12,
      flipDay: 99,
      phi: 0.3,
      sigma: 0.002,
      seed: 4,
    });
    await upsertBars(db.pool, data.bars, 'synthetic-hpo', true);
    const ioQueue = uniqueQueue('hpo-io');
    const prefix = `${uniqueQueue('hpo')}-`;
    const io = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: ioQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        ...createModelIoActivities({ pool: db.pool, artifactDir, log: () => undefined }),
        ...createLearningActivities({ pool: db.pool, artifactDir, log: () => undefined }),
      },
    });
    const spawnTrainingWorker = () => {
      const c = spawn('npx', ['tsx', 'workers/training.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
          DATABASE_URL: db.url,
          TRADER_ARTIFACT_DIR: artifactDir,
          TASK_QUEUE_PREFIX: prefix,
          METRICS_PORT: '0',
          PAYLOAD_ENCRYPTION_KEYS: '',
        },
        stdio: ['ignore', 'ignore', 'ignore'],
        // its own process group: npx → tsx → node die together, like a machine losing the worker
        detached: true,
      });
      children.push(c);
      return c;
    };
    const input: HpoInput = {
      searchId: `hpo-crash-${prefix}`,
      name: 'hpo-crash',
      source: { kind: 'db', symbol: 'HPO', fromMs: data.days[0]!.openMs, toMs: data.days[11]!.closeMs },
      featureSet: 'compact',
      horizonMinutes: 5,
      // rounds enough that a trial is still running when the worker is killed
      spec: {
        kind: 'xgboost',
        objective: 'squared_error',
        rounds: 400,
        params: { nthread: 1, seed: 1 },
        costRate: 0.0001,
        positionPenalty: 0,
      },
      trials: 8,
      parallel: 2,
      startupTrials: 3,
      folds: 3,
      embargoMinutes: 10,
      seed: 7,
      trialHeartbeatTimeoutMs: 3_000,
      taskQueues: { io: ioQueue, training: `${prefix}training` },
    };
    const runs = async () =>
      (
        await db.pool.query<{ id: number; trial: number; attempt: number; finished: boolean }>(
          'select id::int as id, trial, attempt, finished_at is not null as finished from hpo_trial_runs order by id',
        )
      ).rows;
    const finishedTrials = async () =>
      (await db.pool.query<{ trial: number }>('select trial from hpo_trials order by trial')).rows.map(
        (r) => r.trial,
      );

    const outcome = await io.runUntil(async () => {
      const handle = await t.client.workflow.start<(i: HpoInput) => Promise<HpoResult>>('hpoWorkflow', {
        taskQueue: ioQueue,
        workflowId: input.searchId!,
        args: [input],
      });
      const kills: Array<{ finished: number[]; running: number[]; lastRun: number }> = [];
      let seen = 0; // runs started before the previous kill
      for (let k = 0; k < 2; k++) {
        const child = spawnTrainingWorker();
        const want = (k + 1) * 2;
        // wait until this worker finished trials and is running others, then kill it without warning
        let ready = false;
        for (let i = 0; i < 3000 && !ready; i++) {
          const r = await runs();
          const done = (await finishedTrials()).length;
          // a trial this worker started is running (a run left unfinished by the previous kill does not count)
          ready = done >= want && r.some((x) => !x.finished && x.id > seen);
          if (!ready) await new Promise((res) => setTimeout(res, 50));
        }
        assert.ok(ready, `worker ${k + 1} never reached ${want} finished trials with one running`);
        const exited = new Promise((res) => child.once('exit', res));
        process.kill(-child.pid!, 'SIGKILL');
        await exited;
        const r = await runs();
        const before = seen;
        seen = Math.max(...r.map((x) => x.id));
        kills.push({
          finished: await finishedTrials(),
          running: r.filter((x) => !x.finished && x.id > before).map((x) => x.trial),
          lastRun: seen,
        });
      }
      spawnTrainingWorker();
      const result = await handle.result();
      await recordHistory(handle, 'hpo-search');
      return { result, kills };
    });

    const { result, kills } = outcome;
    const all = await runs();
    console.log(
      `kills: ${kills.map((k) => `finished [${k.finished.join(',')}] running [${k.running.join(',')}]`).join('; ')}; runs per trial: ${[
        ...new Set(all.map((r) => r.trial)),
      ]
        .map((tr) => `${tr}:${all.filter((r) => r.trial === tr).length}`)
        .join(' ')}; best trial ${result.best.trial} (${result.best.score.toFixed(2)})`,
    );
    assert.deepEqual(
      result.trials.map((x) => x.trial),
      [0, 1, 2, 3, 4, 5, 6, 7],
      'every trial finished once',
    );
    for (let tr = 0; tr < 8; tr++)
      assert.equal(
        all.filter((r) => r.trial === tr && r.finished).length,
        1,
        `trial ${tr} finished exactly once`,
      );
    for (const k of kills)
      for (const tr of k.finished)
        assert.equal(
          all.filter((r) => r.trial === tr && r.id > k.lastRun).length,
          0,
          `trial ${tr}, finished before a kill, was never started again after it`,
        );
    // the runs table is the ground truth: a run never finished is one a kill interrupted
    const interrupted = all.filter((r) => !r.finished).map((r) => r.trial);
    assert.ok(interrupted.length >= 1, 'a kill interrupted a running trial');
    for (const tr of interrupted)
      assert.ok(
        all.some((r) => r.trial === tr && r.finished && r.attempt > 1),
        `interrupted trial ${tr} ran again to the end`,
      );
    assert.ok(result.trials.every((x) => Number.isFinite(x.score)));
    assert.equal(result.best.score, Math.max(...result.trials.map((x) => x.score)));
  });
});
