import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  sessionWorkflowId,
  type DailyRoutineInput,
  type DailyRoutineResult,
  type ExecutionActivities,
  type ShutdownActivities,
} from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';
import { nyDate, nyseDayInfo } from '../src/market/calendar';
import { tradingSessionWorkflow } from './trading-session.workflow';

/**
 * Pre-market routine, started by a Schedule at 09:00 America/New_York on weekdays: on a trading day it starts
 * that day's TradingSession (one per account, mode and date: a second start is a no-op), abandoning it to run
 * on its own. Holidays are skipped by the schedule itself and checked again here.
 */
export async function preMarketRoutineWorkflow(input: DailyRoutineInput): Promise<DailyRoutineResult> {
  const date = nyDate(Date.now());
  const day = nyseDayInfo(date);
  if (day.holiday) return { date, skipped: day.holiday, sessionWorkflowId: null };
  const workflowId = sessionWorkflowId(input.account, date, input.mode);
  try {
    await startChild(tradingSessionWorkflow, {
      workflowId,
      taskQueue: input.taskQueues?.io ?? workflowInfo().taskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [
        {
          sessionId: workflowId,
          account: input.account,
          mode: input.mode,
          date,
          candidates: input.candidates,
          maxSymbols: input.maxSymbols,
          modelId: input.modelId,
          taskQueues: input.taskQueues,
        },
      ],
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
  return { date, skipped: null, sessionWorkflowId: workflowId };
}

/** Post-market routine (16:30 America/New_York): checks the account is flat and alerts when it is not. */
export async function postMarketRoutineWorkflow(input: DailyRoutineInput): Promise<DailyRoutineResult> {
  const date = nyDate(Date.now());
  const day = nyseDayInfo(date);
  if (day.holiday) return { date, skipped: day.holiday, sessionWorkflowId: null };
  const exec = proxyActivities<ExecutionActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: '1 minute',
  });
  const ops = proxyActivities<ShutdownActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: '1 minute',
  });
  const check = await exec.verifyFlat({});
  await ops.alert({
    severity: check.flat ? 'info' : 'critical',
    text: check.flat
      ? `Post-market ${date} (${input.account}): flat, no open orders.`
      : `Post-market ${date} (${input.account}): NOT flat — ${check.positions.length} position(s), ${check.openOrders} open order(s).`,
  });
  return { date, skipped: null, sessionWorkflowId: sessionWorkflowId(input.account, date, input.mode) };
}
