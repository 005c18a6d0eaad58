import { TASK_QUEUES, type TaskQueueName } from '../contracts/task-queues';
import { createSkeletonActivities } from '../activities/skeleton.activities';
import { createMonitoringActivities } from '../activities/monitoring.activities';
import type { WorkerDeps } from './deps';

/**
 * The one place that decides which activities run on which task queue, and what they are given.
 * io: data, features, inference, reports; training: model fitting; execution: the broker.
 */
export function activitiesFor(queue: TaskQueueName, deps: WorkerDeps): Record<string, (...args: any[]) => unknown> {
  switch (queue) {
    case TASK_QUEUES.io:
      return {
        ...createSkeletonActivities({ pool: deps.pool }),
        ...createMonitoringActivities({ alerter: deps.alerter, audit: deps.audit }),
      };
    case TASK_QUEUES.training:
      return {};
    case TASK_QUEUES.execution:
      return {};
  }
}
