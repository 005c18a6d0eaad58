/**
 * A training-queue worker in its own process, so a test can SIGKILL it mid-training.
 * Env: TEMPORAL_ADDRESS, TRAINING_TASK_QUEUE, DATABASE_URL, TRADER_ARTIFACT_DIR. Prints "ready" once polling.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createTrainingActivities } from '../../activities/training.activities';
import { createPool } from '../../src/storage/pool';

async function main(): Promise<void> {
  const need = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k}: must be set for the training worker`);
    return v;
  };
  const pool = createPool(need('DATABASE_URL'));
  const connection = await NativeConnection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233',
  });
  const worker = await Worker.create({
    connection,
    taskQueue: need('TRAINING_TASK_QUEUE'),
    activities: createTrainingActivities({ pool, artifactDir: need('TRADER_ARTIFACT_DIR') }),
  });
  console.log('ready');
  await worker.run();
  await pool.end();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
