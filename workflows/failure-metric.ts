import {
  ContinueAsNew,
  TemporalFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { MonitoringActivities } from '../contracts/monitoring';

/**
 * Runs a workflow's body; when it fails the workflow, first records the failure through the `recordWorkflowFailure`
 * monitoring activity (`trader_workflow_failures_total{workflow_type}` and the workflow-failed alert), then fails
 * as before with the same error. Only what fails the execution counts: a Temporal failure (an activity's, a child's,
 * an ApplicationFailure). Cancellation and continue-as-new are not failures, and a plain Error fails only the
 * workflow task (Temporal retries it), so neither is recorded. Recording is best effort: it never replaces the
 * workflow's own error. Successful runs schedule nothing, so their histories are unchanged.
 */
export async function recordingFailure<T>(
  workflowType: string,
  opts: { readonly monitoringQueue?: string; readonly critical?: boolean },
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ContinueAsNew || !(err instanceof TemporalFailure) || isCancellation(err)) throw err;
    const { workflowId, runId, taskQueue } = workflowInfo();
    const monitoring = proxyActivities<MonitoringActivities>({
      taskQueue: opts.monitoringQueue ?? taskQueue,
      startToCloseTimeout: '30 seconds',
      retry: { maximumAttempts: 2, initialInterval: '500 ms' },
    });
    try {
      await monitoring.recordWorkflowFailure({
        workflowType,
        workflowId,
        runId,
        error: failureText(err),
        ...(opts.critical ? { critical: true } : {}),
      });
    } catch {
      // the metric is lost (no monitoring worker); the workflow still fails with its own error
    }
    throw err;
  }
}

function failureText(err: TemporalFailure): string {
  let text = err.message;
  for (let c: unknown = err.cause; c instanceof Error; c = c.cause) if (c.message) text += `: ${c.message}`;
  return text.slice(0, 1_000);
}
