import { Pool, type PoolConfig } from 'pg';

/** Builds a pg pool with sane defaults; timestamps are returned as epoch-friendly Date objects. */
export function createPool(connectionString: string, options: Partial<PoolConfig> = {}): Pool {
  const pool = new Pool({ connectionString, max: 8, idleTimeoutMillis: 10_000, ...options });
  // A pool error on an idle client must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

export async function canConnectPostgres(connectionString: string, timeoutMs = 2000): Promise<boolean> {
  const pool = new Pool({ connectionString, max: 1, connectionTimeoutMillis: timeoutMs });
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await pool.end().catch(() => undefined);
  }
}
