// Workflow registry: every workflow exported by name. Workers bundle this file.
export * from './skeleton.workflow';
export * from './retrain.workflow';
export * from './trading-session.workflow';
export * from './backfill.workflow';
export * from './market-data-stream.workflow';
export * from './emergency-shutdown.workflow';
export * from './daily-routines.workflow';
export * from './echo.workflow';
export * from './exec-algo.workflow';
export * from './learning.workflow';
export * from './hpo.workflow';
