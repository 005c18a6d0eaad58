import { log, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type {
  CloseOutActivities,
  CloseOutStepResult,
  EmergencyShutdownInput,
  EmergencyShutdownResult,
  ShutdownActivities,
} from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';

/**
 * Halts trading: alert and audit that it started, kill every running session (found by search attribute), stop
 * execution algorithms, then close out at the broker in steps — cancel what is not a closing order, send one
 * closing order per position, wait, escalate a closing order that does not fill to marketable limits — until
 * the broker shows no position and no open order, or the steps run out. Whatever happens (a permanent broker
 * error, a broker that cannot be read, workers that do not answer), it ends with the result alert and the
 * audit row, naming what is still open; it never fails before them.
 *
 * Running it twice is harmless: a second run finds nothing to kill and nothing open, and one running at the
 * same time as another joins the other's closing orders (their ids derive from the broker's state).
 */
export async function emergencyShutdownWorkflow(
  input: EmergencyShutdownInput,
): Promise<EmergencyShutdownResult> {
  const { workflowId, runId } = workflowInfo();
  const ops = proxyActivities<ShutdownActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '2 minutes',
    retry: { initialInterval: '200 ms', maximumInterval: '5 seconds', maximumAttempts: 5 },
  });
  const broker = proxyActivities<CloseOutActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: '30 seconds',
    // an execution worker that never picks the step up must not hold the alert back forever
    scheduleToCloseTimeout: '2 minutes',
    retry: {
      initialInterval: '200 ms',
      maximumInterval: '5 seconds',
      maximumAttempts: 8,
      nonRetryableErrorTypes: ['PermanentError', 'ConfigError', 'OrderRejectedError', 'ValidationError'],
    },
  });
  const steps = input.verifyAttempts ?? 30;
  const intervalMs = input.verifyIntervalMs ?? 2_000;
  const escalateAfterMs = input.escalateAfterMs ?? 10_000;
  const maxLevel = input.maxEscalations ?? 3;
  const limitBandBps = input.limitBandBps ?? 50;
  const operator = input.requestedBy?.trim() || 'unknown';
  const reason = `emergency shutdown: ${input.reason}`;
  const problems: string[] = [];
  /** Runs a step whose failure is reported, not thrown: nothing may stop the result alert. */
  const attempt = async <T>(what: string, fallback: T, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      problems.push(`${what}: ${rootMessage(e)}`);
      return fallback;
    }
  };
  const audit = (action: 'shutdown.emergency' | 'shutdown.emergency_completed', details: object) =>
    ops
      .audit({
        action,
        reason: input.reason,
        requestedBy: operator,
        details: { account: input.account ?? null, ...details },
        workflowId,
        runId,
      })
      .catch((e: unknown) => log.warn('emergency shutdown: audit write failed', { error: rootMessage(e) }));

  await attempt('alert', undefined, () =>
    ops.notify({
      kind: 'emergency_shutdown_started',
      workflowId,
      reason: input.reason,
      requestedBy: operator,
      account: input.account ?? null,
    }),
  );
  await audit('shutdown.emergency', {});

  // ---- stop everything that could send orders ------------------------------------------------------------
  const found = await attempt('find running sessions', [] as string[], () =>
    ops.findRunningSessions({ account: input.account ?? null }),
  );
  const sessionsKilled: string[] = [];
  for (const id of found) {
    const ok = await attempt(`kill ${id}`, false, async () => {
      await ops.killSession({ workflowId: id, reason, operator });
      return true;
    });
    if (ok) sessionsKilled.push(id);
  }
  // Algorithms also stop on their own session's kill; this reaches those whose session is gone or stuck. A
  // slice already in flight can still land: the close-out cancels it at its next step.
  const algosStopped = await attempt('stop execution algorithms', [] as string[], () =>
    ops.stopExecAlgos({ account: input.account ?? null, reason }),
  );

  // ---- close out at the broker ---------------------------------------------------------------------------
  let level = 0;
  let escalatedAt = Date.now();
  let last: CloseOutStepResult | null = null;
  let ordersCanceled = 0;
  let closeOrders = 0;
  const failures = new Map<string, string>();
  for (let step = 1; step <= steps; step++) {
    let escalating = false;
    if (step > 1) {
      await sleep(intervalMs);
      if (level < maxLevel && Date.now() - escalatedAt >= escalateAfterMs) {
        level++;
        escalatedAt = Date.now();
        escalating = true;
      }
    }
    let r: CloseOutStepResult;
    try {
      r = await broker.closeOutStep({
        level,
        escalating,
        limitBandBps,
        skip: [...failures.keys()].sort(),
        operator,
      });
    } catch (e) {
      // The account cannot be worked (e.g. the broker refuses every call): report what was last seen.
      problems.push(`broker: ${rootMessage(e)}`);
      break;
    }
    last = r;
    ordersCanceled += r.canceled + r.replaced;
    closeOrders += r.sent.length;
    for (const f of r.failures) if (!failures.has(f.symbol)) failures.set(f.symbol, f.error);
    if (r.flat) break;
    // Only positions given up on remain and nothing works at the broker: waiting cannot change that.
    if (r.openOrders === 0 && r.positions.length > 0 && r.positions.every((p) => failures.has(p.symbol)))
      break;
  }

  const flat = last?.flat ?? false;
  if (!last) problems.push('positions and open orders unknown: the broker could not be read');
  for (const [, error] of failures) problems.push(error);
  const result: EmergencyShutdownResult = {
    sessionsKilled,
    algosStopped,
    remainingPositions: last?.positions ?? [],
    openOrders: last?.openOrders ?? 0,
    ordersCanceled,
    closeOrders,
    escalations: level,
    failures: [...failures].map(([symbol, error]) => ({ symbol, error })),
    flat,
    error: problems.length ? problems.join('; ') : null,
  };
  await attempt('alert', undefined, () =>
    ops.notify({
      kind: 'emergency_shutdown_result',
      workflowId,
      reason: input.reason,
      flat,
      sessionsKilled: sessionsKilled.length,
      ordersCanceled,
      closeOrders,
      remainingPositions: result.remainingPositions.map((p) => ({ symbol: p.symbol, qty: p.qty })),
      openOrders: result.openOrders,
      ...(result.error ? { error: result.error } : {}),
    }),
  );
  await audit('shutdown.emergency_completed', { ...result });
  return result;
}

/** The innermost cause's message and type (an activity failure wraps the broker's error). */
function rootMessage(e: unknown): string {
  let cur = e as { message?: string; type?: string; cause?: unknown } | undefined;
  while (cur?.cause) cur = cur.cause as typeof cur;
  const msg = cur?.message ?? String(e);
  return cur?.type ? `${msg} (${cur.type})` : msg;
}
