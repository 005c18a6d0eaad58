export * from './task-queues';
export * from './retrain';
