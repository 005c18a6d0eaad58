import { proxyActivities, sleep } from '@temporalio/workflow';
import type { ExecAlgoActivities, ExecAlgoInput, ExecAlgoResult } from '../contracts/exec-algo';
import type { ExecutionActivities, PlannedOrder } from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';
import { makeClientOrderId } from '../src/model/client-order-id';
import { chooseOrderType, executionQuality, twapSchedule, vwapSchedule } from '../src/session/exec-algos';

/**
 * TWAP / VWAP: splits a large order into slices sent on a timer, each with a deterministic client order id
 * (`<session>:<decidedAt>:<symbol>:<100+slice>`, so a retried or replayed slice is placed once), picks market
 * or marketable limit per slice, then records execution quality against the arrival price.
 */
export async function executionAlgoWorkflow(input: ExecAlgoInput): Promise<ExecAlgoResult> {
  const exec = proxyActivities<ExecutionActivities & ExecAlgoActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: '200 ms',
      maximumInterval: '5 seconds',
      nonRetryableErrorTypes: ['OrderRejectedError', 'PermanentError'],
    },
  });
  const io = proxyActivities<ExecAlgoActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: '30 seconds',
  });
  const plan =
    input.algo === 'vwap' && input.volumeCurve?.length
      ? vwapSchedule(input.qty, input.volumeCurve)
      : twapSchedule(input.qty, input.slices);
  const ids: string[] = [];
  for (let i = 0; i < plan.length; i++) {
    if (i > 0) await sleep(input.intervalMs);
    const qty = plan[i]!;
    if (qty <= 0) continue;
    const clientOrderId = makeClientOrderId({
      session: input.sessionId,
      barTs: input.decidedAt,
      symbol: input.symbol,
      seq: 100 + i,
    });
    const kind = chooseOrderType({
      side: input.side,
      refPrice: input.arrivalPrice,
      spreadBps: input.spreadBps,
      urgency: input.urgency,
    });
    const order: PlannedOrder = {
      clientOrderId,
      symbol: input.symbol,
      side: input.side,
      qty,
      timeInForce: 'day',
      refPrice: input.arrivalPrice,
      reason: `${input.algo} slice ${i + 1}/${plan.length}`,
      ...kind,
    };
    await exec.submitOrders({ sessionId: input.sessionId, orders: [order] });
    ids.push(clientOrderId);
  }
  // Give the last slice one interval to fill before measuring.
  await sleep(input.intervalMs);
  const children = await exec.getOrderFills({ clientOrderIds: ids });
  const last = children.reduce<number | null>((p, c) => c.avgPrice ?? p, null) ?? input.arrivalPrice;
  const result: ExecAlgoResult = {
    ...executionQuality(input.side, input.qty, input.arrivalPrice, children, last),
    children,
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
  return result;
}
