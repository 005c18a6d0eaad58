import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { loadConfig, type AppConfig } from '../src/config/config';
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
    throw new Error('TEMPORAL_ADDRESS: not set; run `npm run trader -- stack up` first, or point it at a Temporal server');
  }
  const runtimeMetricsPort = config.METRICS_PORT ? config.METRICS_PORT + 100 : 0;
  Runtime.install({
    telemetryOptions: runtimeMetricsPort
      ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${runtimeMetricsPort}` } } }
      : {},
    shutdownSignals: [],
  });
  const deps = await createWorkerDeps(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trader_worker_' });
  const up = new Gauge({ name: 'trader_worker_up', help: 'Worker running (1) per task queue', labelNames: ['queue'], registers: [registry] });
  let bundle: WorkflowBundleWithSourceMap | undefined;
  if (opts.queues.length > 1) {
    bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
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
        shutdownGraceTime: '20s',
        maxConcurrentActivityTaskExecutions: queue === 'training' ? 1 : 20,
        maxConcurrentWorkflowTaskExecutions: 20,
        maxCachedWorkflows: 200,
      }),
    ),
  );
  const server = config.METRICS_PORT
    ? await serveMetrics(config.METRICS_PORT, registry, runtimeMetricsPort, () => workers.every((w) => w.getState() === 'RUNNING'))
    : undefined;
  const stop = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const q of opts.queues) up.set({ queue: q }, 1);
  console.log(
    `${opts.name}: polling ${opts.queues.map((q) => `${opts.queuePrefix ?? ''}${q}`).join(', ')} on ${config.TEMPORAL_ADDRESS}` +
      (server ? `; metrics on http://127.0.0.1:${config.METRICS_PORT}/metrics` : ''),
  );
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    for (const q of opts.queues) up.set({ queue: q }, 0);
    await closeAll(server, connection, deps);
  }
}

async function closeAll(server: Server | undefined, connection: NativeConnection, deps: WorkerDeps) {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await connection.close().catch(() => undefined);
  await deps.close().catch(() => undefined);
}

async function serveMetrics(port: number, registry: Registry, runtimePort: number, healthy: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        let body = await registry.metrics();
        try {
          const global = await import('prom-client').then((m) => m.register.metrics());
          body += '\n' + global;
        } catch {
          /* no global registry content */
        }
        if (runtimePort) {
          try {
            const r = await fetch(`http://127.0.0.1:${runtimePort}/metrics`);
            if (r.ok) body += '\n' + (await r.text());
          } catch {
            /* the runtime exporter starts with the first worker; a scrape before then lacks it */
          }
        }
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      } else if (req.url === '/healthz' || req.url === '/readyz') {
        const ok = healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      } else {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
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
