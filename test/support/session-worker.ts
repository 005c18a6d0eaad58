/**
 * A session activity worker as its own process, for the chaos test (which SIGKILLs and restarts it).
 * ROLE=io: session activities (bars from DATABASE_URL); ROLE=execution: broker activities against the
 * simulator at SIM_URL with APCA_API_KEY_ID/APCA_API_SECRET_KEY from the environment, like a real worker.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createExecutionActivities } from '../../activities/execution.activities';
import { createSessionActivities } from '../../activities/session.activities';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import { httpReplayDriver } from '../../src/execution/simulator/replay-driver';
import { PgBarSource } from '../../src/storage/bar-store';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name}: required by test/support/session-worker.ts`);
  return v;
}

async function main(): Promise<void> {
  const role = need('ROLE');
  const connection = await NativeConnection.connect({ address: need('TEMPORAL_ADDRESS') });
  const pool = role === 'io' ? new Pool({ connectionString: need('DATABASE_URL'), max: 4 }) : undefined;
  const activities =
    role === 'io'
      ? createSessionActivities({ bars: new PgBarSource(pool!), pool })
      : createExecutionActivities({
          broker: new AlpacaBroker({
            keyId: need('APCA_API_KEY_ID'),
            secret: need('APCA_API_SECRET_KEY'),
            baseUrl: need('SIM_URL'),
            timeoutMs: 2_000,
          }),
          replay: httpReplayDriver(need('SIM_URL')),
        });
  const worker = await Worker.create({
    connection,
    taskQueue: need('TASK_QUEUE'),
    activities,
    shutdownGraceTime: '1s',
  });
  process.send?.('ready');
  await worker.run();
  await pool?.end();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
