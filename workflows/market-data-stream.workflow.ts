import {
  ActivityCancellationType,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import {
  MarketDataStreamInputSchema,
  type MarketDataActivities,
  type MarketDataStreamInput,
  type MarketDataStreamResult,
} from '../contracts/market-data';
import { TASK_QUEUES } from '../contracts/task-queues';

/**
 * One trading day of real-time market data for one account and feed (workflow id
 * `market-data-<account>-<feed>-<date>`): a single long-running, heartbeating activity on the io queue that
 * consumes the venue's websocket into the store. A dead worker (SIGKILL, OOM, deploy) misses heartbeats; the
 * activity is retried on any io worker and resumes from the newest stored minute of each symbol, filling the
 * gap through REST. Cancelling the workflow (`trader stream stop`) stops the stream.
 */
export async function marketDataStreamWorkflow(
  input: MarketDataStreamInput,
): Promise<MarketDataStreamResult> {
  const parsed = MarketDataStreamInputSchema.safeParse(input);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      'ValidationError',
    );
  const { streamMarketData } = proxyActivities<MarketDataActivities>({
    taskQueue: input.taskQueue ?? TASK_QUEUES.io,
    // The day, extended hours included, plus slack: the activity ends itself when the venue's day is over.
    startToCloseTimeout: '20 hours',
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 30_000,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // Retried for as long as the day lasts: each attempt resumes from the store.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  try {
    const progress = await streamMarketData({ ...parsed.data, streamId: workflowInfo().workflowId });
    return { stopped: false, progress };
  } catch (e) {
    if (isCancellation(e)) return { stopped: true };
    throw e;
  }
}
