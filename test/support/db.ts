import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { migrate } from '../../src/storage/migrate';

/** The admin connection tests create their databases from: TEST_DATABASE_URL, else local trust auth. */
export const TEST_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database per test file: tests never see each other's rows. */
export async function createTestDatabase(prefix = 'tt_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new Pool({ connectionString: TEST_ADMIN_URL, max: 1 });
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(TEST_ADMIN_URL, name);
  const pool = new Pool({ connectionString: url, max: 8 });
  // The forced drop at teardown terminates connections still open (also other pools a test made on `url`);
  // pg reports that as a pool 'error', which after teardown means nothing but would crash the test process.
  pool.on('error', () => undefined);
  await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const a = new Pool({ connectionString: TEST_ADMIN_URL, max: 1 });
      await a.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await a.end();
    },
  };
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
