import { TASK_QUEUES } from '../contracts/task-queues';
import { main } from './run-worker';

/** The io worker: one process per task queue in production (deploy/k8s). */
main({ name: 'io-worker', queues: [TASK_QUEUES.io], queuePrefix: process.env.TASK_QUEUE_PREFIX });
