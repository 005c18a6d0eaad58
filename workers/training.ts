import { TASK_QUEUES } from '../contracts/task-queues';
import { main } from './run-worker';

/** The training worker: one process per task queue in production (deploy/k8s). */
main({ name: 'training-worker', queues: [TASK_QUEUES.training], queuePrefix: process.env.TASK_QUEUE_PREFIX });
