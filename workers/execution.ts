import { TASK_QUEUES } from '../contracts/task-queues';
import { main } from './run-worker';

/** The execution worker: one process per task queue in production (deploy/k8s). */
main({
  name: 'execution-worker',
  queues: [TASK_QUEUES.execution],
  queuePrefix: process.env.TASK_QUEUE_PREFIX,
});
