import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Pool } from 'pg';

export const MIGRATIONS_DIR = resolve(__dirname, '../../migrations');
const FILE_RE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
/** Advisory lock key so two processes never migrate at once. */
const LOCK_KEY = 7_233_001;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: string[];
  readonly skipped: string[];
  readonly timescale: boolean;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((f) => {
    const m = FILE_RE.exec(f);
    if (!m) throw new Error(`migrations/${f}: file name must be NNN_snake_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`migrations/${f}: version ${version} is used twice`);
    seen.add(version);
    const sql = readFileSync(join(dir, f), 'utf8');
    return { version, name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies every migration not yet recorded, each in its own transaction, in version order. An applied
 * migration whose file changed is an error: migrations are append-only.
 */
export async function migrate(pool: Pool, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = loadMigrations(dir);
  const client = await pool.connect();
  const applied: string[] = [];
  const skipped: string[] = [];
  try {
    await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`create table if not exists schema_migrations (
      version integer primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ version: number; checksum: string; name: string }>(
      'select version, checksum, name from schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const label = `${String(m.version).padStart(3, '0')}_${m.name}`;
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(
            `migration ${label} was already applied but its file changed; add a new migration instead of editing it`,
          );
        }
        skipped.push(label);
        continue;
      }
      try {
        await client.query('begin');
        await client.query(m.sql);
        await client.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('commit');
        applied.push(label);
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw new Error(`migration ${label} failed and was rolled back: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    const ts = await client.query<{ ok: boolean }>(
      "select exists(select 1 from pg_extension where extname = 'timescaledb') as ok",
    );
    return { applied, skipped, timescale: ts.rows[0]!.ok };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
