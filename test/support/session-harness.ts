import { randomUUID } from 'node:crypto';
import type { SessionMetrics } from '../../src/monitoring/session-metrics';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { SessionInput } from '../../contracts/session';
import { createExecutionActivities } from '../../activities/execution.activities';
import { createSessionActivities, type SessionActivityDeps } from '../../activities/session.activities';
import { createShutdownActivities } from '../../activities/shutdown.activities';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import { loadBarsFromStore } from '../../src/execution/simulator/replay';
import { httpReplayDriver } from '../../src/execution/simulator/replay-driver';
import {
  startSimulatorServer,
  type SimulatorFaults,
  type SimulatorServer,
} from '../../src/execution/simulator/server';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { PgBarSource, upsertBars } from '../../src/storage/bar-store';
import type { Bar } from '../../src/model/bar';
import type { TestDatabase } from './db';
import { syntheticDayBars } from './sim-bars';
import { WORKFLOWS_PATH, type TemporalTestContext } from './temporal';

export const SESSION_DATE = '2024-03-12';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test process (bundling is the slow part of starting a worker). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta);
  },
};

/** Seeds a replay day of synthetic 1m bars into the store and returns them. */
export async function seedReplayDay(
  db: TestDatabase,
  symbols: readonly string[],
  minutes: number,
  seed = 11,
): Promise<Bar[]> {
  const bars = syntheticDayBars({ date: SESSION_DATE, symbols, minutes, seed });
  await upsertBars(db.pool, bars, 'test-synthetic', true);
  return bars;
}

/** A simulator replaying the stored day, with the given credentials and faults. */
export async function startReplaySimulator(
  db: TestDatabase,
  symbols: readonly string[],
  opts: {
    keyId: string;
    secretKey: string;
    faults?: SimulatorFaults;
    port?: number;
    /** the replayed window (default: the regular session of SESSION_DATE) */
    window?: { open: number; close: number };
  },
): Promise<SimulatorServer> {
  const { open, close } = opts.window ?? sessionBounds(SESSION_DATE);
  const bars = await loadBarsFromStore(db.pool, { symbols, timeframe: '1m', from: open, to: close });
  return startSimulatorServer({
    bars,
    keyId: opts.keyId,
    secretKey: opts.secretKey,
    faults: opts.faults,
    port: opts.port,
    startingCash: 100_000,
    startAt: open - 60_000,
  });
}

export interface SessionWorkers {
  readonly ioQueue: string;
  readonly execQueue: string;
  /** Alerts the shutdown activities sent (the Slack sink in production). */
  readonly alerts: Array<{ severity: string; text: string }>;
  /** Stops both workers (they run from creation until then). */
  shutdown(): Promise<void>;
}

/** io worker (workflows + session activities) and execution worker (broker activities), in this process. */
export async function createSessionWorkers(
  t: TemporalTestContext,
  db: TestDatabase,
  sim: SimulatorServer,
  creds: { keyId: string; secret: string },
  metrics?: SessionMetrics,
  /** the io worker's model serving (sessionModelPorts): sessions with a modelId need it */
  predictions?: SessionActivityDeps['predictions'],
): Promise<SessionWorkers> {
  const ioQueue = `session-io-${randomUUID()}`;
  const alerts: Array<{ severity: string; text: string }> = [];
  const execQueue = `session-exec-${randomUUID()}`;
  const broker = new AlpacaBroker({
    keyId: creds.keyId,
    secret: creds.secret,
    baseUrl: sim.url,
    dataBaseUrl: sim.dataUrl,
    timeoutMs: 3_000,
  });
  const ioWorker = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: ioQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...createSessionActivities({ bars: new PgBarSource(db.pool), pool: db.pool, metrics, predictions }),
      ...createShutdownActivities({
        client: t.client,
        pool: db.pool,
        alert: async (a) => void alerts.push(a),
      }),
    },
  });
  const execWorker = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: execQueue,
    activities: createExecutionActivities({ broker, replay: httpReplayDriver(sim.url), metrics }),
  });
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const running = ioWorker.runUntil(execWorker.runUntil(stopped));
  return {
    ioQueue,
    execQueue,
    alerts,
    async shutdown() {
      stop();
      await running;
    },
  };
}

export function sessionInput(
  workers: { ioQueue: string; execQueue: string },
  symbols: readonly string[],
  extra: Partial<SessionInput> = {},
): SessionInput {
  return {
    sessionId: `sess-${randomUUID().slice(0, 8)}`,
    account: 'SIM-0001',
    mode: 'replay',
    date: SESSION_DATE,
    candidates: symbols,
    maxSymbols: symbols.length,
    taskQueues: { io: workers.ioQueue, execution: workers.execQueue },
    ...extra,
  };
}

export interface SessionEnv {
  readonly sim: SimulatorServer;
  readonly workers: SessionWorkers;
  close(): Promise<void>;
}

/** A fresh simulator replaying the stored day plus its workers: one replay day per session under test. */
export async function startSessionEnv(
  t: TemporalTestContext,
  db: TestDatabase,
  symbols: readonly string[],
  creds: { keyId: string; secret: string },
  faults?: SimulatorFaults,
  metrics?: SessionMetrics,
  window?: { open: number; close: number },
  predictions?: SessionActivityDeps['predictions'],
): Promise<SessionEnv> {
  const sim = await startReplaySimulator(db, symbols, {
    keyId: creds.keyId,
    secretKey: creds.secret,
    faults,
    window,
  });
  const workers = await createSessionWorkers(t, db, sim, creds, metrics, predictions);
  return {
    sim,
    workers,
    async close() {
      await workers.shutdown();
      await sim.close();
    },
  };
}
