import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nyDate } from '../../src/market/calendar';
import {
  describeVenue,
  simulatorClock,
  startStackSimulator,
  stopStackSimulator,
  type VenueState,
} from '../../src/stack/venue';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { PAPER_DAY, seedVenueDay } from '../support/paper-session';

/**
 * The stack's paper venue without Alpaca keys: the simulator process `stack up` starts — an idle venue on the
 * wall clock by default, or a stored day played at a speed (`stack up --venue-date D --venue-speed 60`).
 */
describe('the stack’s simulator as the paper venue', () => {
  let db: TestDatabase;
  const dataDir = mkdtempSync(join(tmpdir(), 'trader-venue-'));
  const started: VenueState[] = [];
  before(async () => {
    db = await createTestDatabase('tt_stack_venue');
    await seedVenueDay(db.pool, ['SVA', 'SVB']);
  });
  after(async () => {
    for (const v of started) await stopStackSimulator(v);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when no day is asked for, then it is an idle venue on the wall clock and says so', async () => {
    const v = await startStackSimulator({ TRADER_DATA_DIR: dataDir }, db.url, { port: 8934 });
    started.push(v);
    const clock = await simulatorClock(v.url!);
    assert.ok(clock && Math.abs(clock.now - Date.now()) < 5_000, 'its clock is the wall clock');
    assert.equal(clock.date, nyDate(Date.now()));
    assert.match(
      describeVenue(v).broker,
      /simulator at http:\/\/127\.0\.0\.1:8934, an idle venue on the wall clock/,
    );
    assert.match(describeVenue(v).feed, /idle: no stored day, so no bars/);
    assert.equal(await stopStackSimulator(v), true);
    assert.equal(await simulatorClock(v.url!), undefined, 'stopped');
  });

  test('when a stored day is asked for, then it plays that day from the database at the speed asked', async () => {
    const v = await startStackSimulator({ TRADER_DATA_DIR: dataDir }, db.url, {
      port: 8935,
      date: PAPER_DAY,
      speed: 60,
    });
    started.push(v);
    const clock = await simulatorClock(v.url!);
    assert.equal(clock?.date, PAPER_DAY);
    assert.equal(clock?.running, true);
    assert.equal(clock?.speed, 60);
    assert.match(describeVenue(v).broker, /playing 2024-11-29 at 60x/);
    const bars = await fetch(`${v.url}/v2/stocks/SVA/bars?timeframe=1Min&start=2024-11-29T00:00:00Z`, {
      headers: { 'APCA-API-KEY-ID': 'any', 'APCA-API-SECRET-KEY': 'any' },
    });
    assert.equal(bars.status, 200, 'its market-data API answers the workers’ default credentials');
  });
});
