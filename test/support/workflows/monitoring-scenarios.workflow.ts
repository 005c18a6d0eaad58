import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { DatasetRef, RetrainModelSpec, TrainingActivities } from '../../../contracts/retrain';
import type { ExecutionActivities } from '../../../contracts/session';
import type { PackedActions } from '../../../src/trading/packed-actions';

/**
 * Drivers for the alert scenarios: each calls one real activity, on the task queue of a real worker process,
 * exactly once (no retries), so the test controls how many orders and training runs happen.
 */

/** Sends the actions to the execution worker's `execute` activity; returns the rejection of each order. */
export async function executeOrdersScenario(input: {
  executionQueue: string;
  sessionId: string;
  actions: PackedActions;
}): Promise<Array<string | null>> {
  const exec = proxyActivities<ExecutionActivities>({
    taskQueue: input.executionQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  });
  const r = await exec.execute({ sessionId: input.sessionId, actions: input.actions });
  return r.acks.map((a) => a.rejected);
}

/** One training attempt on the training worker; reports how it ended instead of failing the workflow. */
export async function trainOnceScenario(input: {
  trainingQueue: string;
  runKey: string;
  dataset: DatasetRef;
  spec: RetrainModelSpec;
}): Promise<'succeeded' | 'failed'> {
  const training = proxyActivities<TrainingActivities>({
    taskQueue: input.trainingQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  });
  try {
    await training.trainRetrainModel({ runKey: input.runKey, dataset: input.dataset, spec: input.spec });
    return 'succeeded';
  } catch (err) {
    if (err instanceof ActivityFailure) return 'failed';
    throw err;
  }
}
