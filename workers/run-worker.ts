import { hostname } from 'node:os';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { metricsRegistry, setWorkerInfo, setWorkerUp, tradingMetrics } from '../src/monitoring/metrics';
import { startHostSampling } from '../src/monitoring/dashboard/host-stats';
import { DashboardService, dashboardRoutes } from '../src/monitoring/dashboard/server';
import { version } from '../package.json';
import { temporalDataConverter } from '../src/stack/data-converter';
import { startMetricsServer, type MetricsServer } from '../src/monitoring/metrics-server';
import { loadConfig, type AppConfig } from '../src/config/config';
import { tradingModeBanner } from '../src/config/mode-banner';
import type { TaskQueueName } from '../contracts/task-queues';
import { activitiesFor } from './activities';
import { createWorkerDeps, type WorkerDeps } from './deps';

export interface RunWorkersOptions {
  readonly name: string;
  readonly queues: readonly TaskQueueName[];
  /** Prefix for every task queue name (tests run isolated queues on a shared server). */
  readonly queuePrefix?: string;
  readonly config?: AppConfig;
}

/**
 * Runs one Temporal worker per task queue in this process, sharing one connection, one workflow bundle and
 * one set of dependencies; serves /metrics (prom-client + Temporal runtime metrics) and /healthz; shuts
 * down gracefully on SIGINT/SIGTERM with a grace time for in-flight activities.
 */
export async function runWorkers(opts: RunWorkersOptions): Promise<void> {
  const config = opts.config ?? loadConfig();
  if (!config.TEMPORAL_ADDRESS) {
    throw new Error(
      'TEMPORAL_ADDRESS: not set; run `npm run trader -- stack up` first, or point it at a Temporal server',
    );
  }
  const banner = tradingModeBanner(config);
  if (config.TRADING_MODE === 'live') console.error(banner);
  else console.log(banner);
  const runtimeMetricsPort = config.METRICS_PORT ? config.METRICS_PORT + 100 : 0;
  Runtime.install({
    telemetryOptions: runtimeMetricsPort
      ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${runtimeMetricsPort}` } } }
      : {},
    shutdownSignals: [],
  });
  tradingMetrics.enableProcessMetrics();
  setWorkerInfo({ worker: opts.name, version, tradingMode: config.TRADING_MODE });
  // Training nodes may hold GPUs: sample host CPU/GPU for the system dashboard there and on the dev worker.
  const stopHostSampling = opts.queues.includes('training') ? startHostSampling() : () => undefined;
  // The all-in-one dev worker also serves the live dashboard page at / on its metrics port.
  const dashboard =
    opts.queues.length > 1
      ? new DashboardService({ source: { kind: 'registry', registry: metricsRegistry } })
      : undefined;
  dashboard?.start();
  const deps = await createWorkerDeps(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  let bundle: WorkflowBundleWithSourceMap | undefined;
  if (opts.queues.length > 1) {
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      failureConverterPath: temporalDataConverter().failureConverterPath,
    });
  }
  const workers = await Promise.all(
    opts.queues.map((queue) =>
      Worker.create({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: `${opts.queuePrefix ?? ''}${queue}`,
        identity: `${opts.name}@${hostname()}:${process.pid}`,
        ...(bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('../workflows') }),
        activities: activitiesFor(queue, deps),
        dataConverter: temporalDataConverter(),
        shutdownGraceTime: '20s',
        maxConcurrentActivityTaskExecutions: queue === 'training' ? 1 : 20,
        maxConcurrentWorkflowTaskExecutions: 20,
        maxCachedWorkflows: 200,
      }),
    ),
  );
  const server = config.METRICS_PORT
    ? await startMetricsServer({
        port: config.METRICS_PORT,
        host: config.METRICS_HOST,
        temporalMetricsUrl: runtimeMetricsPort ? `http://127.0.0.1:${runtimeMetricsPort}/metrics` : undefined,
        checks: {
          workers: () => workers.every((w) => w.getState() === 'RUNNING'),
          postgres: async () => void (await deps.pool.query('select 1')),
        },
        routes: dashboard ? [dashboardRoutes(dashboard)] : [],
      })
    : undefined;
  const stop = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const q of opts.queues) setWorkerUp(q, true);
  console.log(
    `${opts.name}: polling ${opts.queues.map((q) => `${opts.queuePrefix ?? ''}${q}`).join(', ')} on ${config.TEMPORAL_ADDRESS}` +
      (server ? `; metrics on http://127.0.0.1:${config.METRICS_PORT}/metrics` : ''),
  );
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    for (const q of opts.queues) setWorkerUp(q, false);
    stopHostSampling();
    dashboard?.stop();
    await closeAll(server, connection, deps);
  }
}

async function closeAll(server: MetricsServer | undefined, connection: NativeConnection, deps: WorkerDeps) {
  await server?.close().catch(() => undefined);
  await connection.close().catch(() => undefined);
  await deps.close().catch(() => undefined);
}

/** Entry-point helper: runs and exits non-zero with a readable message on failure. */
export function main(opts: RunWorkersOptions): void {
  runWorkers(opts).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`${opts.name}: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
