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
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

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
    const summary = await w.run(() =>
      runLearningDemo({
        client: t.client,
        pool: db.pool,
        artifactDir,
        symbol: 'DEMO',
        fromMs: data.days[0]!.openMs,
        toMs: data.days[15]!.closeMs + 1,
        taskQueues: { io: w.ioQueue, training: w.trainingQueue },
        log: (l) => lines.push(l),
      }),
    );
    console.log([...lines, summary].join('\n'));
    assert.match(lines.join('\n'), /drift of demo-learn-\S+ on 2024-01-24: scores PSI \d/);
    assert.match(lines.join('\n'), /shadow demo-learn-\S+: 2 days, \d+ paired predictions/);
    assert.match(summary, /learning cycle of demo-learn on 2024-01-24: (PROMOTED|REJECTED|no promotion)/);
    const { rows } = await db.pool.query(`select day from learning_days where name = 'demo-learn'`);
    assert.equal(rows.length, 1);
  });
});
