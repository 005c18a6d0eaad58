import {
  condition,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExecAlgoActivities, ExecAlgoInput, ExecAlgoResult } from '../contracts/exec-algo';
import { algoDoneSignal, algoStopSignal, type ExecutionActivities } from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';
import { algoSliceSeq, makeClientOrderId, parseClientOrderId } from '../src/model/client-order-id';
import type { OrderSpec } from '../src/model/order';
import { chooseOrderType, executionQuality, twapSchedule, vwapSchedule } from '../src/session/exec-algos';
import { packActions } from '../src/trading/packed-actions';

/**
 * TWAP / VWAP: splits a large order into slices sent on a timer, each with a deterministic client order id
 * (`<session>:<decidedAt>:<symbol>:<algoSliceSeq(parent seq, slice)>`, so a retried or replayed slice is placed
 * once and never collides with another order of that bar), picks market
 * or marketable limit per slice, then records execution quality against the arrival price.
 *
 * An `algoStop` signal (the session flattening or ending its day, an emergency shutdown) ends the slicing: a
 * slice already being placed completes first, no further slice is sent. Started by a session, the algorithm
 * signals it `algoDone` at the end, so the session knows no more slices can appear before it cancels or
 * flattens the symbol.
 */
export async function executionAlgoWorkflow(input: ExecAlgoInput): Promise<ExecAlgoResult> {
  const timeout = input.activityTimeoutMs ?? 30_000;
  const exec = proxyActivities<ExecutionActivities & ExecAlgoActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: timeout,
    retry: {
      initialInterval: '200 ms',
      maximumInterval: '5 seconds',
      nonRetryableErrorTypes: ['OrderRejectedError', 'PermanentError'],
    },
  });
  const io = proxyActivities<ExecAlgoActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: timeout,
  });
  let stopped: string | null = null;
  setHandler(algoStopSignal, ({ reason }) => {
    stopped ??= reason || 'stopped';
  });

  const plan =
    input.algo === 'vwap' && input.volumeCurve?.length
      ? vwapSchedule(input.qty, input.volumeCurve)
      : twapSchedule(input.qty, input.slices);
  const parentSeq = (input.parentOrderId && parseClientOrderId(input.parentOrderId)?.seq) || 0;
  const ids: string[] = [];
  for (let i = 0; i < plan.length && stopped === null; i++) {
    if (i > 0 && (await condition(() => stopped !== null, input.intervalMs))) break;
    const qty = plan[i]!;
    if (qty <= 0) continue;
    const clientOrderId = makeClientOrderId({
      session: input.sessionId,
      barTs: input.decidedAt,
      symbol: input.symbol,
      seq: algoSliceSeq(parentSeq, i),
    });
    const kind = chooseOrderType({
      side: input.side,
      refPrice: input.arrivalPrice,
      spreadBps: input.spreadBps,
      urgency: input.urgency,
    });
    const order: OrderSpec = {
      clientOrderId,
      symbol: input.symbol,
      side: input.side,
      qty,
      timeInForce: 'day',
      ...kind,
      tag: { intent: 'entry', reason: `${input.algo} slice ${i + 1}/${plan.length}` },
    };
    ids.push(clientOrderId);
    try {
      const { acks } = await exec.execute({
        sessionId: input.sessionId,
        actions: packActions([{ kind: 'submit', order, refPrice: input.arrivalPrice, entry: true }]),
      });
      // a rejected slice (buying power, halted symbol) means the rest would be rejected too
      if (acks[0]?.rejected) stopped = `slice ${i + 1} rejected: ${acks[0].rejected}`;
    } catch (e) {
      // retries exhausted or a permanent error: measure what was done and tell the session
      stopped = `slice ${i + 1} failed: ${(e as Error).message}`;
    }
    if (stopped !== null) log.warn('execution algorithm stopped', { symbol: input.symbol, reason: stopped });
  }
  // Give the last slice one interval to fill before measuring (not when stopped: the caller cancels now).
  if (stopped === null) await sleep(input.intervalMs);
  const children = ids.length ? await exec.getOrderFills({ clientOrderIds: ids }) : [];
  const last = children.reduce<number | null>((p, c) => c.avgPrice ?? p, null) ?? input.arrivalPrice;
  const result: ExecAlgoResult = {
    ...executionQuality(input.side, input.qty, input.arrivalPrice, children, last),
    children,
    stopped,
  };
  await io.recordExecutionQuality({
    sessionId: input.sessionId,
    decidedAt: input.decidedAt,
    symbol: input.symbol,
    side: input.side,
    algo: input.algo,
    qty: input.qty,
    arrivalPrice: input.arrivalPrice,
    result,
  });
  const parent = workflowInfo().parent;
  if (parent && input.parentOrderId) {
    try {
      // by workflow id only: the session may have continued as new since it started this algorithm
      await getExternalWorkflowHandle(parent.workflowId).signal(algoDoneSignal, {
        parentId: input.parentOrderId,
        filledQty: result.filledQty,
      });
    } catch (e) {
      // the session has ended (its end of day stopped us); nothing is waiting for the signal
      log.info('session gone before the algorithm finished', { error: String(e) });
    }
  }
  return result;
}
