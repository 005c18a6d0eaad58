import { proxyActivities } from '@temporalio/workflow';

/** A bare echo activity in a loop: the benchmark peer for one Temporal activity round trip. */
export async function echoActivityWorkflow(input: { count: number; taskQueue: string }): Promise<number> {
  const { echo } = proxyActivities<{ echo(x: number): Promise<number> }>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: '10 seconds',
  });
  let sum = 0;
  for (let i = 0; i < input.count; i++) sum += await echo(i);
  return sum;
}
