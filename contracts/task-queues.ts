/** Task queues: io (data, features, inference, reports), training (GPU-capable), execution (broker). */
export const TASK_QUEUES = {
  io: 'io',
  training: 'training',
  execution: 'execution',
} as const;
export type TaskQueueName = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** Custom search attributes registered on the namespace by `stack up`. */
export const SEARCH_ATTRIBUTES = {
  SessionDate: 'Keyword',
  TradingMode: 'Keyword',
  Account: 'Keyword',
  Symbols: 'KeywordList',
  ModelId: 'Keyword',
} as const;
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
