export * from './task-queues';
export * from './retrain';
export * from './monitoring';
export * from './features';
export * from './backtest';
export * from './market-data';
