import { patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type {
  EmergencyShutdownInput,
  EmergencyShutdownResult,
  ExecutionActivities,
  ShutdownActivities,
} from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';

/**
 * Halts trading everywhere: kill every running session (found by search attribute), cancel open orders,
 * flatten, verify flat at the broker, alert, audit. Idempotent: a second run finds nothing to kill, nothing
 * open and nothing held, and says so.
 */
export async function emergencyShutdownWorkflow(
  input: EmergencyShutdownInput,
): Promise<EmergencyShutdownResult> {
  const info = workflowInfo();
  const ops = proxyActivities<ShutdownActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 ms', maximumInterval: '5 seconds' },
  });
  const exec = proxyActivities<ExecutionActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: '200 ms',
      maximumInterval: '5 seconds',
      nonRetryableErrorTypes: ['PermanentError', 'ConfigError'],
    },
  });
  const audit = (action: string, details: Record<string, unknown>) =>
    ops.audit({
      action,
      reason: input.reason,
      details: { requestedBy: input.requestedBy, ...details },
      workflowId: info.workflowId,
      runId: info.runId,
    });

  await audit('emergency_shutdown_started', { account: input.account ?? null });
  const sessions = await ops.findRunningSessions({ account: input.account ?? null });
  for (const workflowId of sessions)
    await ops.killSession({ workflowId, reason: `emergency shutdown: ${input.reason}` });
  // Algorithms also stop on their own session's kill; this reaches those whose session is gone or stuck.
  // A slice already in flight can still land after the cancel below: the verify loop cancels it again.
  // (patched: histories from before execution algorithms replay without this step)
  const algosStopped = patched('emergency-stop-exec-algos')
    ? await ops.stopExecAlgos({
        account: input.account ?? null,
        reason: `emergency shutdown: ${input.reason}`,
      })
    : [];
  const ordersCanceled = await exec.cancelOpenOrders({ reason: 'emergency shutdown' });
  let closeOrders = await exec.flattenAll({ reason: 'emergency shutdown' });
  let check = await exec.verifyFlat({});
  // Closing orders need the market to trade; re-check, and re-flatten anything a late fill re-opened.
  for (let attempt = 1; !check.flat && attempt < (input.verifyAttempts ?? 30); attempt++) {
    await sleep(input.verifyIntervalMs ?? 2_000);
    check = await exec.verifyFlat({});
    if (!check.flat && check.openOrders > 0 && patched('emergency-cancel-late-orders'))
      await exec.cancelOpenOrders({ reason: 'emergency shutdown (late order)' });
    if (!check.flat && check.openOrders === 0 && check.positions.length)
      closeOrders += await exec.flattenAll({ reason: 'emergency shutdown (re-flatten)' });
  }
  const result: EmergencyShutdownResult = {
    sessionsKilled: sessions,
    algosStopped,
    remainingPositions: check.positions,
    ordersCanceled,
    closeOrders,
    flat: check.flat,
  };
  await ops.alert({
    severity: check.flat ? 'info' : 'critical',
    text: check.flat
      ? `Emergency shutdown complete: ${sessions.length} session(s) killed, ${ordersCanceled} order(s) canceled, ${closeOrders} position(s) closed; flat at the broker. Reason: ${input.reason}`
      : `Emergency shutdown NOT flat: ${check.positions.length} position(s), ${check.openOrders} open order(s) remain after ${input.verifyAttempts ?? 30} checks. Act at the broker now. Reason: ${input.reason}`,
  });
  await audit('emergency_shutdown_completed', { ...result });
  return result;
}
