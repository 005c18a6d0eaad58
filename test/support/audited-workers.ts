import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { AlertDto } from '../../contracts/monitoring';
import { createExecutionActivities } from '../../activities/execution.activities';
import { createSessionActivities, type SessionActivityDeps } from '../../activities/session.activities';
import { createCloseOutActivities, createShutdownActivities } from '../../activities/shutdown.activities';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import { httpReplayDriver } from '../../src/execution/simulator/replay-driver';
import { AuditLog } from '../../src/monitoring/audit/audit-log';
import { temporalOperatorResolver } from '../../src/monitoring/audit/identity';
import { OrderAudit } from '../../src/monitoring/audit/order-audit';
import { PgBarSource } from '../../src/storage/bar-store';
import type { TestDatabase } from './db';
import { workflowBundle } from './session-harness';
import type { TemporalTestContext } from './temporal';

export interface AuditedWorkers {
  readonly ioQueue: string;
  readonly execQueue: string;
  /** Alerts as the monitoring alerter would have sent them (severity, key, title, text). */
  readonly alerts: AlertDto[];
  shutdown(): Promise<void>;
}

/**
 * io and execution workers wired as workers/activities.ts wires them — session, shutdown and close-out
 * activities, the order audit trail and the operator resolver — against a broker at `brokerUrl` (the simulator,
 * or a stub in front of it), with the simulator's bar replay at `replayUrl`.
 */
export async function createAuditedWorkers(
  t: TemporalTestContext,
  db: TestDatabase,
  opts: {
    brokerUrl: string;
    replayUrl?: string;
    keyId: string;
    secret: string;
    /** the io worker's model serving (sessionModelPorts): sessions with a modelId need it */
    predictions?: SessionActivityDeps['predictions'];
  },
): Promise<AuditedWorkers> {
  const ioQueue = `audited-io-${randomUUID()}`;
  const execQueue = `audited-exec-${randomUUID()}`;
  const alerts: AlertDto[] = [];
  const operators = temporalOperatorResolver(t.client);
  const broker = new AlpacaBroker({
    keyId: opts.keyId,
    secret: opts.secret,
    baseUrl: opts.brokerUrl,
    timeoutMs: 3_000,
  });
  const audit = { orders: new OrderAudit(new AuditLog(db.pool)), operators };
  const ioWorker = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: ioQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...createSessionActivities({
        bars: new PgBarSource(db.pool),
        pool: db.pool,
        operators,
        predictions: opts.predictions,
      }),
      ...createShutdownActivities({
        client: t.client,
        pool: db.pool,
        operators,
        alert: async (a) => void alerts.push(a),
      }),
    },
  });
  const execWorker = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: execQueue,
    activities: {
      ...createExecutionActivities({
        broker,
        replay: opts.replayUrl ? httpReplayDriver(opts.replayUrl) : undefined,
        audit,
      }),
      ...createCloseOutActivities({ broker, audit }),
    },
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
      await broker.close();
    },
  };
}
