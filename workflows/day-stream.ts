import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { marketDataStreamWorkflowId } from '../contracts/market-data';
import type { SessionInput } from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';
import { marketDataStreamWorkflow } from './market-data-stream.workflow';

/**
 * Starts the day's market-data stream for a universe (one per account, feed and day), unless one already runs:
 * the pre-market routine starts it before the open, the session keeps the running one. It outlives its starter
 * (ABANDON) and ends by itself after the venue's close.
 */
export async function startDayStream(
  input: Pick<SessionInput, 'account' | 'date' | 'stream' | 'taskQueues'>,
  universe: readonly string[],
): Promise<string> {
  const taskQueue = input.taskQueues?.stream ?? input.taskQueues?.io;
  const streamInput = {
    account: input.account,
    date: input.date,
    symbols: [...universe],
    // quotes and trades for the most liquid part of the universe (their spread feeds order-type choice)
    focus: universe.slice(0, 20),
    ...(input.stream ?? {}),
    ...(taskQueue ? { taskQueue } : {}),
  };
  const workflowId = marketDataStreamWorkflowId(streamInput);
  try {
    await startChild(marketDataStreamWorkflow, {
      workflowId,
      taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [streamInput],
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
  return workflowId;
}
