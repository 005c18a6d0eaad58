import type { Pool } from 'pg';
import type { AppConfig } from '../src/config/config';
import { createCache, type KeyValueCache } from '../src/storage/cache';
import { createPool } from '../src/storage/pool';
import { resolvePostgres } from '../src/stack/postgres';
import { createAlerterFromEnv } from '../src/monitoring/alerting/slack-alerter';
import type { SlackAlerter } from '../src/monitoring/alerting/slack-alerter';
import { AuditLog } from '../src/monitoring/audit/audit-log';

/** Everything activities may need, built once per worker process and closed on shutdown. */
export interface WorkerDeps {
  readonly config: AppConfig;
  readonly pool: Pool;
  readonly cache: KeyValueCache;
  /** Slack when SLACK_BOT_TOKEN is set, else the log. */
  readonly alerter: SlackAlerter;
  readonly audit: AuditLog;
  close(): Promise<void>;
}

export async function createWorkerDeps(config: AppConfig): Promise<WorkerDeps> {
  const pg = await resolvePostgres({ databaseUrl: config.DATABASE_URL, dataDir: config.TRADER_DATA_DIR });
  const pool = createPool(pg.url);
  const cache = await createCache({ url: config.REDIS_URL });
  return {
    config,
    pool,
    cache,
    alerter: createAlerterFromEnv(config),
    audit: new AuditLog(pool),
    async close() {
      await cache.close();
      await pool.end();
    },
  };
}
