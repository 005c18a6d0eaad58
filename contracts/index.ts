export * from './task-queues';
export * from './retrain';
export * from './monitoring';
