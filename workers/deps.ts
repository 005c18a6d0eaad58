import type { Pool } from 'pg';
import type { AppConfig } from '../src/config/config';
import { createCache, type KeyValueCache } from '../src/storage/cache';
import { createPool } from '../src/storage/pool';
import { resolvePostgres } from '../src/stack/postgres';
import { createAlerterFromEnv } from '../src/monitoring/alerting/slack-alerter';
import type { SlackAlerter } from '../src/monitoring/alerting/slack-alerter';
import { AuditLog } from '../src/monitoring/audit/audit-log';
import { Client, Connection } from '@temporalio/client';
import { temporalDataConverter } from '../src/stack/data-converter';
import { executionBrokerFromConfig, type ExecutionBrokerDeps } from '../src/execution/alpaca/from-config';
import type { Broker } from '../src/execution/broker';
import { ConfigError } from '../src/model/errors';

/** Everything activities may need, built once per worker process and closed on shutdown. */
export interface WorkerDeps {
  readonly config: AppConfig;
  readonly pool: Pool;
  readonly cache: KeyValueCache;
  /** Slack when SLACK_BOT_TOKEN is set, else the log. */
  readonly alerter: SlackAlerter;
  readonly audit: AuditLog;
  /** A Temporal client (e.g. the emergency shutdown finds and kills sessions through it). */
  readonly client: Client;
  /**
   * The broker for the execution queue: the local simulator (APCA_API_BASE_URL on localhost), Alpaca paper, or
   * live. Built on first use, so io and training workers never need broker settings.
   */
  execution(): ExecutionBrokerDeps | { broker: Broker; target: 'unavailable' };
  close(): Promise<void>;
}

export async function createWorkerDeps(config: AppConfig): Promise<WorkerDeps> {
  const pg = await resolvePostgres({ databaseUrl: config.DATABASE_URL, dataDir: config.TRADER_DATA_DIR });
  const pool = createPool(pg.url);
  const cache = await createCache({ url: config.REDIS_URL });
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: temporalDataConverter(),
  });
  let execution: ReturnType<WorkerDeps['execution']> | undefined;
  return {
    config,
    pool,
    cache,
    alerter: createAlerterFromEnv(config),
    audit: new AuditLog(pool),
    client,
    execution() {
      if (!execution) {
        try {
          execution = executionBrokerFromConfig(config);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          // No broker configured: the worker still runs; every broker call fails non-retryably with the fix.
          console.warn(`execution: ${err.message}`);
          execution = { broker: unavailableBroker(err), target: 'unavailable' };
        }
      }
      return execution;
    },
    async close() {
      if (execution && 'close' in execution.broker)
        await (execution.broker as { close(): Promise<void> }).close().catch(() => undefined);
      await clientConnection.close().catch(() => undefined);
      await cache.close();
      await pool.end();
    },
  };
}

/** A broker whose every call throws the configuration error that prevented building a real one. */
function unavailableBroker(err: ConfigError): Broker {
  return new Proxy({} as Broker, {
    get(_target, prop) {
      if (prop === 'then') return undefined;
      return () => Promise.reject(err);
    },
  });
}
