/**
 * A real worker process for Prometheus to scrape: the product entry point (workers/dev.ts: io, training and
 * execution queues in one process, wired by workers/activities.ts, /metrics with the Temporal SDK runtime
 * metrics merged) on its own METRICS_PORT and task-queue prefix. The test gives it its database, broker and
 * data directory through the environment, as an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { killProcessGroup, processGroupAlive, stopProcessGroup } from '../../src/stack/temporal';
import { freePort, until } from './prometheus';

const root = resolve(__dirname, '../..');

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly metricsPort: number;
  /** host:port of /metrics, a Prometheus target. */
  readonly target: string;
  /** Task queues are `${queuePrefix}io`, `${queuePrefix}training`, `${queuePrefix}execution`. */
  readonly queuePrefix: string;
  output(): string;
  /** SIGKILL: the process dies at once, as on a crashed node. */
  kill(): void;
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** Entry point relative to the repository root (default workers/dev.ts). */
  readonly entry?: string;
  readonly queuePrefix: string;
  readonly env: NodeJS.ProcessEnv;
  /** Starts the worker's metrics clock at this instant (test/support/prometheus-metrics-clock.ts). */
  readonly metricsClockStartMs?: number;
  /** How long to wait for /healthz 200 (bundling the workflows dominates; minutes on a loaded 2-core box). */
  readonly readyTimeoutMs?: number;
}

export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/prometheus-metrics-clock.ts', opts.entry ?? 'workers/dev.ts'],
    {
      cwd: root,
      detached: true,
      env: {
        ...opts.env,
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        TASK_QUEUE_PREFIX: opts.queuePrefix,
        ...(opts.metricsClockStartMs ? { METRICS_CLOCK_START_MS: String(opts.metricsClockStartMs) } : {}),
      },
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const pid = child.pid!;
  const worker: WorkerProcess = {
    child,
    metricsPort,
    target: `127.0.0.1:${metricsPort}`,
    queuePrefix: opts.queuePrefix,
    output: () => out,
    kill: () => killProcessGroup(pid, 'SIGKILL'),
    stop: async () => {
      if (processGroupAlive(pid)) await stopProcessGroup(pid, 10_000);
    },
  };
  try {
    await until(
      `worker ${opts.entry ?? 'workers/dev.ts'} ready on :${metricsPort}`,
      async () => {
        if (exited !== null) throw new Error(`exited with ${exited}: ${out.slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${metricsPort}/healthz`, {
          signal: AbortSignal.timeout(3000),
        });
        return r.status === 200 ? true : undefined;
      },
      opts.readyTimeoutMs ?? 240_000,
      500,
    );
  } catch (err) {
    await worker.stop();
    throw new Error(`${(err as Error).message}\nworker output:\n${out.slice(-4000)}`);
  }
  return worker;
}
