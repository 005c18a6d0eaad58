/**
 * A stand-alone io worker process that runs only the market-data stream activity, for fault tests: the test
 * SIGKILLs it mid-day and starts another. Env: DATABASE_URL, TASK_QUEUE, TEMPORAL_ADDRESS, SIM_URL,
 * APCA_API_KEY_ID, APCA_API_SECRET_KEY. Prints "ready" once polling.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createMarketDataActivities } from '../../activities/market-data.activities';
import { alpacaEndpointsFromConfig } from '../../src/data/sources';
import { createPool } from '../../src/storage/pool';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name}: required by test/support/stream-worker.ts`);
  return v;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const pool = createPool(need('DATABASE_URL'));
  const connection = await NativeConnection.connect({ address: need('TEMPORAL_ADDRESS') });
  const worker = await Worker.create({
    connection,
    taskQueue: need('TASK_QUEUE'),
    activities: createMarketDataActivities({
      pool,
      // As a real worker builds it from its environment (APCA_API_BASE_URL on localhost: the simulator).
      alpaca: alpacaEndpointsFromConfig({
        APCA_API_KEY_ID: need('APCA_API_KEY_ID'),
        APCA_API_SECRET_KEY: need('APCA_API_SECRET_KEY'),
        APCA_API_BASE_URL: need('SIM_URL'),
        APCA_DATA_BASE_URL: undefined,
        TRADING_MODE: 'paper',
      }),
    }),
    shutdownGraceTime: '1 second',
  });
  process.stdout.write('ready\n');
  await worker.run();
  await pool.end();
  await connection.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`stream-worker: ${String(e)}\n`);
  process.exit(1);
});
