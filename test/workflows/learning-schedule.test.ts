/**
 * The learning loop's triggers: the learning Schedule (America/New_York after the close, NYSE holidays skipped)
 * and the post-market routine's hook start the day's cycle under one id, `learning-<name>-<day>`: whichever comes
 * first runs the day, the other finds it started.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRoutineActivities } from '../../activities/routines.activities';
import { learningCycleWorkflowId } from '../../contracts/learning';
import { startLearningCycles } from '../../src/learning/trigger';
import { nyDate } from '../../src/market/calendar';
import { ModelRegistry } from '../../src/models/registry/registry';
import { DEFAULT_XGBOOST_SPEC } from '../../src/models/spec';
import { learningScheduleDefinition } from '../../src/session/schedules';
import { PgBarSource } from '../../src/storage/bar-store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { learningWorkers } from '../support/learning-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

describe('learning triggers', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'learning-schedule-'));
  });
  after(async () => {
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  test('when the learning Schedule is defined, then it runs on weekdays after the close in New York, skips NYSE holidays and starts the day-naming workflow', () => {
    const def = learningScheduleDefinition({ input: { name: 'spy' }, fromYear: 2026 });
    assert.equal(def.scheduleId, 'learning-spy');
    assert.equal(def.spec.timezone, 'America/New_York');
    assert.deepEqual(def.spec.calendars![0]!.hour, 16);
    assert.deepEqual(def.spec.calendars![0]!.minute, 45);
    const skip = def.spec.skip!.map((s) => (s as { comment?: string }).comment);
    assert.ok(skip.includes('Christmas Day') || skip.some((c) => /Christmas/.test(c ?? '')), skip.join(', '));
    assert.equal(def.action.type, 'startWorkflow');
    assert.equal((def.action as { workflowType: string }).workflowType, 'scheduledLearningWorkflow');
    assert.throws(
      () => learningScheduleDefinition({ input: { name: 'x' }, fromYear: 2026, hour: 12 }),
      /hour: 12/,
    );
  });

  test('when the post-market hook and the Schedule both trigger a day, then one learning cycle runs for each name in use', async () => {
    const registry = new ModelRegistry(db.pool, artifactDir);
    await registry.register(
      {
        id: 'trig-1',
        name: 'trig',
        kind: 'xgboost',
        spec: DEFAULT_XGBOOST_SPEC,
        featureSet: 'features.compact',
        featureSetVersion: 'v',
        symbol: 'TRIG',
        trainFrom: 0,
        trainTo: 1,
        dataHash: 'x',
        metrics: {},
        workflowId: null,
      },
      { modelCard: '' },
    );
    await registry.promote('trig-1');
    const w = await learningWorkers(t, db.pool, artifactDir);
    const day = nyDate(Date.now());
    const queues = { io: w.ioQueue, training: w.trainingQueue };
    const routines = createRoutineActivities({
      pool: db.pool,
      bars: new PgBarSource(db.pool),
      artifactDir,
      learning: (date) => startLearningCycles(t.client, db.pool, registry, { day: date, taskQueues: queues }),
    });
    const out = await w.run(async () => {
      const hook = await routines.postMarketRetrainHook({
        date: day,
        account: 'acct',
        mode: 'paper',
        report: {} as never,
      });
      const scheduled = await t.client.workflow.execute('scheduledLearningWorkflow', {
        taskQueue: w.ioQueue,
        workflowId: `learning-trig-scheduled-${w.ioQueue}`,
        args: [{ name: 'trig', taskQueues: queues }],
      });
      const again = await startLearningCycles(t.client, db.pool, registry, { day, taskQueues: queues });
      const cycle = await t.client.workflow.getHandle(learningCycleWorkflowId('trig', day)).result();
      return { hook, scheduled, again, cycle };
    });
    assert.equal(out.hook.triggered, true, out.hook.note);
    assert.deepEqual(out.scheduled, { workflowId: `learning-trig-${day}`, started: false });
    assert.deepEqual(out.again, [{ name: 'trig', workflowId: `learning-trig-${day}`, started: false }]);
    assert.equal((out.cycle as { name: string }).name, 'trig');
  });
});
