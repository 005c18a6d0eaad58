import { TASK_QUEUES, type TaskQueueName } from '../contracts/task-queues';
import { createSkeletonActivities } from '../activities/skeleton.activities';
import { createMonitoringActivities } from '../activities/monitoring.activities';
import { createModelIoActivities } from '../activities/models-io.activities';
import { createTrainingActivities } from '../activities/training.activities';
import { createLearningActivities } from '../activities/learning.activities';
import { createHpoTrainingActivities } from '../activities/hpo.activities';
import { startLearningCycles } from '../src/learning/trigger';
import { ModelRegistry } from '../src/models/registry/registry';
import { createBacktestActivities } from '../activities/backtest.activities';
import { createDataActivities } from '../activities/data.activities';
import { createFeatureActivities } from '../activities/features.activities';
import { createMarketDataActivities } from '../activities/market-data.activities';
import { alpacaEndpointsFromConfig, networkSourcesFromConfig } from '../src/data/sources';
import { MarketDataRepository } from '../src/storage/market-data-repo';
import { TickStore } from '../src/data/tick-store';
import { join } from 'node:path';
import { createExecutionActivities } from '../activities/execution.activities';
import { createSessionActivities } from '../activities/session.activities';
import { createRoutineActivities } from '../activities/routines.activities';
import { createCloseOutActivities, createShutdownActivities } from '../activities/shutdown.activities';
import { temporalOperatorResolver } from '../src/monitoring/audit/identity';
import { OrderAudit } from '../src/monitoring/audit/order-audit';
import { PgBarSource } from '../src/storage/bar-store';
import { sessionModelPorts } from '../src/models/serving/session-models';
import { prometheusSessionMetrics } from '../src/monitoring/session-metrics';
import type { WorkerDeps } from './deps';
import { alpacaVenueClock, type VenueClock } from '../src/data/stream/venue-clock';

/**
 * The one place that decides which activities run on which task queue, and what they are given.
 * io: data, features, inference, reports; training: model fitting; execution: the broker.
 */
export function activitiesFor(
  queue: TaskQueueName,
  deps: WorkerDeps,
): Record<string, (...args: any[]) => unknown> {
  switch (queue) {
    case TASK_QUEUES.io:
      return {
        ...createSkeletonActivities({ pool: deps.pool }),
        ...createDataActivities({
          repo: new MarketDataRepository(deps.pool),
          sharedDataDir: deps.config.sharedDataDir,
          ...networkSourcesFromConfig(deps.config),
          ticks: new TickStore(deps.pool),
        }),
        ...createMarketDataActivities({ pool: deps.pool, alpaca: alpacaEndpointsFromConfig(deps.config) }),
        ...createFeatureActivities({ pool: deps.pool, cache: deps.cache }),
        ...createBacktestActivities({
          pool: deps.pool,
          sharedDataDir: deps.config.sharedDataDir,
          reportDir: join(deps.config.artifactDir, 'reports'),
        }),
        ...createMonitoringActivities({ alerter: deps.alerter, audit: deps.audit }),
        ...createSessionActivities({
          bars: new PgBarSource(deps.pool),
          pool: deps.pool,
          metrics: prometheusSessionMetrics(deps.config.TRADING_MODE),
          operators: temporalOperatorResolver(deps.client),
          predictions: sessionModelPorts({
            pool: deps.pool,
            artifactDir: deps.config.artifactDir,
            cache: deps.cache,
            log: (l) => console.log(l),
          }),
        }),
        ...createRoutineActivities({
          pool: deps.pool,
          bars: new PgBarSource(deps.pool),
          artifactDir: deps.config.artifactDir,
          learning: (date) =>
            startLearningCycles(
              deps.client,
              deps.pool,
              new ModelRegistry(deps.pool, deps.config.artifactDir),
              {
                day: date,
                taskQueues: {
                  io: `${process.env.TASK_QUEUE_PREFIX ?? ''}${TASK_QUEUES.io}`,
                  training: `${process.env.TASK_QUEUE_PREFIX ?? ''}${TASK_QUEUES.training}`,
                },
              },
            ),
        }),
        ...createShutdownActivities({
          client: deps.client,
          pool: deps.pool,
          operators: temporalOperatorResolver(deps.client),
          alert: (a) => deps.alerter.send(a),
        }),
        ...createModelIoActivities({
          pool: deps.pool,
          artifactDir: deps.config.artifactDir,
          sharedDataDir: deps.config.sharedDataDir,
          alerter: deps.alerter,
        }),
        ...createLearningActivities({ pool: deps.pool, artifactDir: deps.config.artifactDir }),
      };
    case TASK_QUEUES.training: {
      const xgboostParams: Record<string, string> =
        deps.config.XGBOOST_DEVICE === 'cpu' ? {} : { device: deps.config.XGBOOST_DEVICE };
      return {
        ...createTrainingActivities({ pool: deps.pool, artifactDir: deps.config.artifactDir, xgboostParams }),
        ...createHpoTrainingActivities({ pool: deps.pool, xgboostParams }),
      };
    }
    case TASK_QUEUES.execution: {
      const { broker, target, ...rest } = deps.execution();
      // every order, cancel and fill to the audit log, with the operator behind the workflow
      const audit = { orders: new OrderAudit(deps.audit), operators: temporalOperatorResolver(deps.client) };
      return {
        ...createExecutionActivities({
          broker,
          replay: 'replay' in rest ? rest.replay : undefined,
          // labelled like the io queue's session metrics: the daily-loss alert joins the two on `account`
          metrics: prometheusSessionMetrics(deps.config.TRADING_MODE),
          venue: executionVenue(deps.config, target),
          audit,
        }),
        ...createCloseOutActivities({ broker, audit }),
      };
    }
  }
}

/** Which broker the execution worker holds, and its clock (Alpaca's /v2/clock; the simulator's own pace). */
function executionVenue(
  config: WorkerDeps['config'],
  target: ReturnType<WorkerDeps['execution']>['target'],
): { mode: 'simulator' | 'paper' | 'live'; clock?: VenueClock } | undefined {
  if (target === 'unavailable') return undefined;
  const mode = target === 'simulator' ? 'simulator' : target === 'alpaca-live' ? 'live' : 'paper';
  const tradingBaseUrl =
    config.APCA_API_BASE_URL ??
    (mode === 'live' ? 'https://api.alpaca.markets' : 'https://paper-api.alpaca.markets');
  return {
    mode,
    clock: alpacaVenueClock({
      keyId: config.APCA_API_KEY_ID ?? 'SIMULATOR',
      secret: config.APCA_API_SECRET_KEY ?? 'SIMULATOR',
      tradingBaseUrl,
    }),
  };
}
