import { createServer, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { ConnectionLike } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type RuntimeOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { metricsRegistry, setWorkerInfo, setWorkerUp, tradingMetrics } from '../src/monitoring/metrics';
import { startHostSampling } from '../src/monitoring/dashboard/host-stats';
import { DashboardService, dashboardRoutes } from '../src/monitoring/dashboard/server';
import { version } from '../package.json';
import { temporalDataConverter } from '../src/stack/data-converter';
import { startMetricsServer, type MetricsServer } from '../src/monitoring/metrics-server';
import { brokerEndpointMode, loadConfig, type AppConfig } from '../src/config/config';
import { ConfigError } from '../src/model/errors';
import { redactError, redactProcessOutput } from '../src/security/redact';
import { tradingModeBanner } from '../src/config/mode-banner';
import type { TaskQueueName } from '../contracts/task-queues';
import { activitiesFor } from './activities';
import { configuredVenue, describeVenue, simulatorClock } from '../src/stack/venue';
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
  if (brokerEndpointMode(config) === 'live') console.error(banner);
  else console.log(banner);
  // what this worker trades at and reads real-time bars from, as /healthz reports them
  const venue = configuredVenue(config);
  const described = describeVenue(venue);
  if (opts.queues.includes('execution')) console.log(`broker: ${described.broker}`);
  if (opts.queues.includes('io')) console.log(`market data: ${described.feed}`);
  // The Temporal runtime's own Prometheus exporter listens on loopback only, on an ephemeral port: it is an
  // internal source that /metrics merges, never a second public endpoint.
  const runtimeMetricsUrl = await installRuntime(config.METRICS_PORT !== 0);
  tradingMetrics.enableProcessMetrics();
  setWorkerInfo({ worker: opts.name, version, tradingMode: config.TRADING_MODE });

  // Bound first, before the slow start (dependencies, bundling): a taken METRICS_PORT fails in a second with
  // the port named, and /healthz answers 503 "starting" until every worker polls.
  let workers: Worker[] = [];
  let deps: WorkerDeps | undefined;
  const dashboard =
    opts.queues.length > 1
      ? new DashboardService({
          source: { kind: 'registry', registry: metricsRegistry },
          // sessions: running ones through this worker's Temporal client, finished ones from its database
          sessions: () => (deps ? { pool: deps.pool, client: deps.client } : undefined),
        })
      : undefined;
  const server = config.METRICS_PORT
    ? await startMetricsServer({
        port: config.METRICS_PORT,
        host: config.METRICS_HOST,
        temporalMetricsUrl: runtimeMetricsUrl,
        checks: {
          workers: () => {
            if (!workers.length) throw new Error('starting');
            const down = workers.filter((w) => w.getState() !== 'RUNNING');
            if (down.length)
              throw new Error(`${down.map((w) => w.options.taskQueue).join(', ')} not running`);
          },
          postgres: async () => {
            if (!deps) throw new Error('starting');
            await deps.pool.query('select 1');
          },
          temporal: async () => {
            if (!deps) throw new Error('starting');
            await temporalServing(deps.client.connection, config.TEMPORAL_ADDRESS!);
          },
          // the execution queue is not ready without a broker (every order would fail)
          ...(opts.queues.includes('execution')
            ? {
                broker: async () => {
                  if (!deps) throw new Error('starting');
                  if (deps.execution().target === 'unavailable')
                    throw new Error(
                      `${described.broker}; set APCA_API_KEY_ID/APCA_API_SECRET_KEY for Alpaca paper, or APCA_API_BASE_URL to the simulator (npm run trader -- stack up starts one)`,
                    );
                  if (venue?.kind === 'simulator' && venue.url && !(await simulatorClock(venue.url)))
                    throw new Error(`${described.broker}: not answering`);
                  return described.broker;
                },
              }
            : {}),
          // the real-time feed is reported, not required (the io queue also serves backfills, features, reports)
          ...(opts.queues.includes('io')
            ? {
                feed: async () =>
                  venue?.kind === 'simulator' && venue.url && !(await simulatorClock(venue.url))
                    ? `${described.feed} (not answering)`
                    : described.feed,
              }
            : {}),
        },
        routes: dashboard ? [dashboardRoutes(dashboard)] : [],
      })
    : undefined;

  // Training nodes may hold GPUs: sample host CPU/GPU for the system dashboard there and on the dev worker.
  const stopHostSampling = opts.queues.includes('training') ? startHostSampling() : () => undefined;
  // The all-in-one dev worker also serves the live dashboard page at / on its metrics port.
  dashboard?.start();
  let connection: NativeConnection | undefined;
  try {
    deps = await createWorkerDeps(config);
    connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const dataConverter = temporalDataConverter();
    let bundle: WorkflowBundleWithSourceMap | undefined;
    if (opts.queues.length > 1) {
      bundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../workflows'),
        failureConverterPath: dataConverter.failureConverterPath,
      });
    }
    const conn = connection;
    const workerDeps = deps;
    workers = await Promise.all(
      opts.queues.map((queue) =>
        Worker.create({
          connection: conn,
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: `${opts.queuePrefix ?? ''}${queue}`,
          identity: `${opts.name}@${hostname()}:${process.pid}`,
          ...(bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('../workflows') }),
          activities: activitiesFor(queue, workerDeps),
          dataConverter,
          shutdownGraceTime: '20s',
          maxConcurrentActivityTaskExecutions: queue === 'training' ? 1 : 20,
          maxConcurrentWorkflowTaskExecutions: 20,
          maxCachedWorkflows: 200,
        }),
      ),
    );
  } catch (err) {
    stopHostSampling();
    dashboard?.stop();
    await closeAll(server, connection, deps);
    throw err;
  }
  const stop = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const q of opts.queues) setWorkerUp(q, true);
  console.log(
    `${opts.name}: polling ${opts.queues.map((q) => `${opts.queuePrefix ?? ''}${q}`).join(', ')} on ${config.TEMPORAL_ADDRESS}` +
      (server ? `; metrics on ${server.url}/metrics` : ''),
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

/**
 * Installs the Temporal runtime (`options`: a worker process handles its own signals), with its Prometheus
 * exporter on 127.0.0.1 and a free ephemeral port when `withMetrics`; returns the exporter's URL. Should another
 * process take the port between the probe and the runtime's bind, the next free one is tried.
 */
export async function installRuntime(
  withMetrics: boolean,
  options: Omit<RuntimeOptions, 'telemetryOptions'> = { shutdownSignals: [] },
): Promise<string | undefined> {
  if (!withMetrics) {
    Runtime.install(options);
    return undefined;
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    try {
      Runtime.install({
        ...options,
        telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } },
      });
      return `http://127.0.0.1:${port}/metrics`;
    } catch (err) {
      if (attempt >= 5 || !/in use/i.test((err as Error).message)) throw err;
    }
  }
}

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Throws unless the Temporal frontend answers (GetSystemInfo) within 1.5 s. */
async function temporalServing(connection: ConnectionLike, address: string): Promise<void> {
  try {
    await connection.withDeadline(Date.now() + 1500, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    throw new Error(`Temporal at ${address} does not answer: ${(err as Error).message}`);
  }
}

async function closeAll(
  server: MetricsServer | undefined,
  connection: NativeConnection | undefined,
  deps: WorkerDeps | undefined,
) {
  await server?.close().catch(() => undefined);
  await connection?.close().catch(() => undefined);
  await deps?.close().catch(() => undefined);
}

/**
 * Entry-point helper: everything the process writes is redacted (src/security/redact.ts: no credential in a
 * worker's log); runs, and exits non-zero with a readable message on failure (a configuration error without
 * a stack trace: the message names the variable and the fix).
 */
export function main(opts: RunWorkersOptions): void {
  redactProcessOutput();
  runWorkers(opts).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`${opts.name}: ${redactError(err, { stack: !(err instanceof ConfigError) })}`);
      process.exit(1);
    },
  );
}
