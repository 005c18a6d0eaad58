import { TASK_QUEUES } from '../contracts/task-queues';
import { main } from './run-worker';

/** All-in-one worker for laptops and the demo: every task queue in one process. */
main({
  name: 'dev-worker',
  queues: [TASK_QUEUES.io, TASK_QUEUES.training, TASK_QUEUES.execution],
  queuePrefix: process.env.TASK_QUEUE_PREFIX,
});
