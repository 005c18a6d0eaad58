import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runReplaySessionDemo } from '../../cli/session-demo';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay } from '../support/session-harness';
import { connectTemporal, TEST_TEMPORAL_ADDRESS, type TemporalTestContext } from '../support/temporal';

describe('demo: replayed paper session', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  before(async () => {
    db = await createTestDatabase('tt_session_demo');
    await seedReplayDay(db, ['DMA', 'DMB', 'DMC'], 25, 9);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when the demo step runs over the newest stored day, then the session trades on the simulator and prints where to watch it', async () => {
    const lines: string[] = [];
    const summary = await runReplaySessionDemo({
      client: t.client,
      temporalAddress: TEST_TEMPORAL_ADDRESS,
      namespace: 'default',
      pool: db.pool,
      symbols: ['DMA', 'DMB', 'DMC'],
      maxBars: 25,
      log: (l) => lines.push(l),
    });
    assert.match(summary, /replayed 2024-03-12 .* orders placed once each/);
    assert.match(summary, /flat at the close: true/);
    assert.ok(
      lines.some((l) => /watch the session: http:\/\/.*\/workflows\/demo-session-2024-03-12-/.test(l)),
    );
  });
});
