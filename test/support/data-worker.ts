/**
 * A stand-alone io worker process that runs only the data activities, for crash tests: the test kills it
 * with SIGKILL mid-backfill and starts another. Env: DATABASE_URL, TASK_QUEUE, SHARED_DATA_DIR,
 * TEMPORAL_ADDRESS. Prints "ready" once polling.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDataActivities } from '../../activities/data.activities';
import { createPool } from '../../src/storage/pool';
import { MarketDataRepository } from '../../src/storage/market-data-repo';

async function main(): Promise<void> {
  const pool = createPool(process.env.DATABASE_URL!);
  const connection = await NativeConnection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233',
  });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE!,
    activities: createDataActivities({
      repo: new MarketDataRepository(pool),
      sharedDataDir: process.env.SHARED_DATA_DIR,
    }),
    maxConcurrentActivityTaskExecutions: 4,
    shutdownGraceTime: '2 seconds',
  });
  process.stdout.write('ready\n');
  await worker.run();
  await pool.end();
  await connection.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`data-worker: ${String(e)}\n`);
  process.exit(1);
});
