import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SkeletonActivities, SkeletonInput, SkeletonResult } from '../contracts/skeleton';

// Runs on the io queue; its activity stays on the workflow's own queue so prefixed test queues stay isolated.
const { recordPing } = proxyActivities<SkeletonActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '200 ms' },
});

/** Proves the whole path: client → Temporal → io worker → activity → Postgres → back. */
export async function skeletonWorkflow(input: SkeletonInput): Promise<SkeletonResult> {
  const message = input.message.trim();
  const { pingId, rowsForWorkflow } = await recordPing({ workflowId: workflowInfo().workflowId, message });
  return { pingId, stored: message, rowsForWorkflow };
}
