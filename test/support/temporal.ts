import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';

// Worker state changes at INFO drown test output; warnings and errors still show.
try {
  Runtime.install({
    logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN'),
  });
} catch {
  /* already installed by this process */
}

/** The Temporal server the suite runs against: the runner's dev server, or the developer's. */
export const TEST_TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233';
export const WORKFLOWS_PATH = require.resolve('../../workflows');
export const HISTORIES_DIR = resolve(__dirname, '../replay/histories');

export interface TemporalTestContext {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

export async function connectTemporal(address: string = TEST_TEMPORAL_ADDRESS): Promise<TemporalTestContext> {
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection }),
    connection,
    nativeConnection,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export const uniqueQueue = (prefix = 'test') => `${prefix}-${randomUUID()}`;

/**
 * Saves a finished workflow's history for the replay test when RECORD_HISTORIES=1 (or when none is recorded
 * yet), so a later non-deterministic change to the workflow code fails CI.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  const file = resolve(HISTORIES_DIR, `${name}.json`);
  if (existsSync(file) && process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
}
