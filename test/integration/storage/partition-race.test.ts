import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../support/db';

describe('monthly partitions under concurrent writers', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('tt_partition_race');
  });
  after(async () => {
    await db.drop();
  });

  test('when many connections create the same months at once, then every call succeeds and each month has one partition', async () => {
    const hasTimescale = (await db.pool.query<{ t: boolean }>('select ts_has_timescale() as t')).rows[0]!.t;
    // 8 callers per month over 24 months: the first of each month creates it, the others must find it
    for (let month = 0; month < 24; month++) {
      const from = new Date(Date.UTC(2010 + Math.floor(month / 12), month % 12, 15));
      const calls = Array.from({ length: 8 }, () =>
        db.pool.query<{ n: number }>('select ensure_time_partitions($1, $2, $3) as n', [
          'feature_vectors',
          from,
          new Date(from.getTime() + 1),
        ]),
      );
      const created = (await Promise.all(calls)).reduce((a, r) => a + r.rows[0]!.n, 0);
      assert.equal(created, hasTimescale ? 0 : 1, `month ${from.toISOString().slice(0, 7)}`);
    }
  });
});
