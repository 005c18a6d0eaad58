/** The demo's learning step (acceptance 5 of issue 17) on its own workers and synthetic stored bars. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runLearningDemo } from '../../cli/learning-demo';
import { upsertBars } from '../../src/storage/bar-store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { flipBars } from '../support/flip-bars';
import { learningWorkers } from '../support/learning-harness';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { LearningCycleInput, LearningCycleResult } from '../../contracts/learning';
import {
  connectTemporal,
  recordHistory,
  TEST_TEMPORAL_ADDRESS,
  type TemporalTestContext,
} from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

describe('demo: one learning cycle', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'learning-demo-'));
  });
  after(async () => {
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  test('when the demo step runs, then it prints a drift report and the shadow decision, and learning status has the day', async () => {
    const data = flipBars({
      symbol: 'DEMO',
      from: '2024-01-02',
      days: 16,
      flipDay: 99,
      phi: 0.3,
      sigma: 0.002,
      seed: 8,
    });
    await upsertBars(db.pool, data.bars, 'synthetic-demo', true);
    const w = await learningWorkers(t, db.pool, artifactDir);
    const lines: string[] = [];
    const { summary, again } = await w.run(async () => {
      const summary = await runLearningDemo({
        client: t.client,
        pool: db.pool,
        artifactDir,
        symbol: 'DEMO',
        fromMs: data.days[0]!.openMs,
        toMs: data.days[15]!.closeMs + 1,
        taskQueues: { io: w.ioQueue, training: w.trainingQueue },
        log: (l) => lines.push(l),
      });
      // a second cycle of the same day (the day's record is rewritten), its history kept for the replay test
      const h = await t.client.workflow.start<(i: LearningCycleInput) => Promise<LearningCycleResult>>(
        'learningCycleWorkflow',
        {
          taskQueue: w.ioQueue,
          workflowId: `learning-demo-again-${w.ioQueue}`,
          args: [
            {
              name: 'demo-learn',
              day: '2024-01-24',
              config: { shadowDays: 2, driftWindowDays: 2, retrainEveryDays: 0 },
              taskQueues: { io: w.ioQueue, training: w.trainingQueue },
            },
          ],
        },
      );
      const again = await h.result();
      await recordHistory(h, 'learning-cycle');
      return { summary, again };
    });
    console.log([...lines, summary].join('\n'));
    assert.match(lines.join('\n'), /drift of demo-learn-\S+ on 2024-01-24: scores PSI \d/);
    assert.match(lines.join('\n'), /shadow demo-learn-\S+: 2 days, \d+ paired predictions/);
    assert.match(summary, /learning cycle of demo-learn on 2024-01-24: (PROMOTED|REJECTED|no promotion)/);
    const { rows } = await db.pool.query(`select day from learning_days where name = 'demo-learn'`);
    assert.equal(rows.length, 1);
    // every model in use has its live record merged for the ensemble weights
    const live = await db.pool.query<{ n: number }>(
      `select jsonb_array_length(metrics->'liveOosPnlByDay')::int as n from models where status in ('champion', 'shadow')`,
    );
    assert.deepEqual(
      live.rows.map((r) => r.n),
      [2, 2],
    );
    // the operator's view
    const cli = await run(
      'npx',
      ['tsx', 'cli/main.ts', 'learning', 'status', '--name', 'demo-learn', '--json'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          TRADER_ARTIFACT_DIR: artifactDir,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
        },
      },
    );
    const [status] = JSON.parse(cli.stdout.slice(cli.stdout.indexOf('['))) as Array<Record<string, any>>;
    assert.equal(status!.name, 'demo-learn');
    assert.ok(status!.champion.id && status!.shadows.length === 1 && status!.drift.day === '2024-01-24');
    assert.equal(status!.recentDays[0].day, '2024-01-24');
    assert.equal(status!.nextCycleAt, null, 'no learning schedule in this test');
    assert.equal(again.day, '2024-01-24');
  });
});
