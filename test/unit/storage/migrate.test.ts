import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadMigrations, migrate } from '../../../src/storage/migrate';
import { createTestDatabase, type TestDatabase } from '../../support/db';

describe('migrations', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  test('when migrations already ran, then running again applies nothing', async () => {
    const r = await migrate(db.pool);
    assert.deepEqual(r.applied, []);
    assert.equal(r.skipped.length, loadMigrations().length);
    const { rows } = await db.pool.query('select count(*)::int as n from schema_migrations');
    assert.equal(rows[0].n, loadMigrations().length);
  });

  test('when a migration fails, then it is rolled back and not recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(dir, '900_good.sql'), 'create table mig_good (id int);');
    writeFileSync(join(dir, '901_bad.sql'), 'create table mig_bad (id int); select * from no_such_table;');
    await assert.rejects(migrate(db.pool, dir), /migration 901_bad failed and was rolled back/);
    const t = await db.pool.query("select to_regclass('mig_good') as good, to_regclass('mig_bad') as bad");
    assert.equal(t.rows[0].good, 'mig_good');
    assert.equal(t.rows[0].bad, null);
    const v = await db.pool.query('select version from schema_migrations where version >= 900');
    assert.deepEqual(
      v.rows.map((r) => r.version),
      [900],
    );
  });

  test('when an applied migration file is edited, then migrate refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(dir, '950_x.sql'), 'create table mig_x (id int);');
    await migrate(db.pool, dir);
    writeFileSync(join(dir, '950_x.sql'), 'create table mig_x (id bigint);');
    await assert.rejects(migrate(db.pool, dir), /already applied but its file changed/);
  });

  test('when bars arrive for a new month, then a monthly partition holds them and queries span partitions', async () => {
    const { rows } = await db.pool.query('select ts_has_timescale() as ts');
    await db.pool.query(
      "insert into bars(symbol,timeframe,ts,open,high,low,close,volume,source) values ('AAA','1m','2021-05-03T14:30Z',1,2,0.5,1.5,10,'test')",
    );
    await db.pool.query("select ensure_time_partitions('bars', '2021-05-01', '2021-07-01')");
    await db.pool.query(
      "insert into bars(symbol,timeframe,ts,open,high,low,close,volume,source) values ('AAA','1m','2021-06-03T14:30Z',1,2,0.5,1.5,10,'test')",
    );
    const parts = await db.pool.query(
      'select tableoid::regclass::text as p, count(*)::int as n from bars group by 1 order by 1',
    );
    if (!rows[0].ts) {
      assert.deepEqual(parts.rows, [
        { p: 'bars_p202105', n: 1 },
        { p: 'bars_p202106', n: 1 },
      ]);
    }
    const all = await db.pool.query("select count(*)::int as n from bars where symbol = 'AAA'");
    assert.equal(all.rows[0].n, 2);
  });

  test('when someone tries to change the audit log, then the database refuses', async () => {
    await db.pool.query("insert into audit_log(actor, action, reason) values ('test', 'pause', 'because')");
    await assert.rejects(db.pool.query("update audit_log set reason = 'x'"), /append-only/);
    await assert.rejects(db.pool.query('delete from audit_log'), /append-only/);
  });
});
