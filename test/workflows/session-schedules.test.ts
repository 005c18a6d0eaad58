import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { applySchedules, holidaySkips, scheduleDefinitions } from '../../src/session/schedules';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

describe('pre/post-market Schedules', () => {
  let t: TemporalTestContext;
  const account = `SCHED-${randomUUID().slice(0, 8)}`;
  const settings = {
    routine: { account, mode: 'paper' as const, candidates: ['AAPL', 'MSFT'] },
    fromYear: 2026,
    years: 2,
  };

  before(async () => {
    t = await connectTemporal();
  });
  after(async () => {
    for (const d of scheduleDefinitions(settings))
      await t.client.schedule
        .getHandle(d.scheduleId)
        .delete()
        .catch(() => undefined);
    await t?.close();
  });

  test('when the holiday skip list is built, then weekday NYSE holidays are in it and trading days are not', () => {
    const skips = holidaySkips(2026, 1).map((s) => `${s.month}-${s.dayOfMonth}`);
    assert.ok(skips.includes('DECEMBER-25'), 'Christmas');
    assert.ok(skips.includes('JULY-3'), 'Independence Day observed on Friday 2026-07-03');
    assert.ok(!skips.includes('MARCH-12'));
  });

  test('when schedules are applied twice, then the first run creates and the second updates the same two schedules', async () => {
    const first = await applySchedules(t.client, settings);
    assert.deepEqual(
      first.map((r) => r.outcome),
      ['created', 'created'],
    );
    const second = await applySchedules(t.client, { ...settings, catchupWindow: '45 minutes' });
    assert.deepEqual(
      second.map((r) => r.outcome),
      ['updated', 'updated'],
    );
    const desc = await t.client.schedule.getHandle(`${account}-paper-pre-market`).describe();
    assert.equal(desc.spec.timezone, 'America/New_York');
    assert.equal(desc.policies.catchupWindow, 45 * 60_000);
    assert.ok((desc.spec.skip ?? []).length >= 18, 'two years of holidays skipped');
    assert.equal(desc.action.type, 'startWorkflow');
    assert.equal(
      desc.action.type === 'startWorkflow' ? desc.action.workflowType : '',
      'preMarketRoutineWorkflow',
    );
  });
});
