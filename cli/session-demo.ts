import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { SessionResult } from '../contracts/session';
import { createExecutionActivities } from '../activities/execution.activities';
import { createSessionActivities } from '../activities/session.activities';
import type { AppConfig } from '../src/config/config';
import { AlpacaBroker } from '../src/execution/alpaca/adapter';
import { sessionBounds } from '../src/execution/simulator/calendar';
import { loadBarsFromStore } from '../src/execution/simulator/replay';
import { httpReplayDriver } from '../src/execution/simulator/replay-driver';
import { startSimulatorServer } from '../src/execution/simulator/server';
import { nyDate } from '../src/market/calendar';
import { PgBarSource } from '../src/storage/bar-store';
import type { StackState } from '../src/stack/stack';
import { createPool } from '../src/storage/pool';
import { waitForWorkflow } from './workflow-result';

/**
 * The demo's last step: a replayed paper session through Temporal on the local Alpaca-compatible simulator.
 * Self-contained: it starts the simulator over the newest stored day of the symbols, its own io and execution
 * workers (the real SDK talking HTTP to the simulator) on private task queues, runs the session and prints
 * where to watch it in the Web UI.
 */
export interface ReplaySessionDemoOptions {
  readonly client: Client;
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly pool: Pool;
  readonly symbols: readonly string[];
  readonly uiUrl?: string;
  readonly maxBars?: number;
  readonly log?: (line: string) => void;
}

export async function runReplaySessionDemo(o: ReplaySessionDemoOptions): Promise<string> {
  const log = o.log ?? ((l: string) => console.log(l));
  const { rows } = await o.pool.query<{ ts: Date | null }>(
    `select max(ts) as ts from bars where symbol = any($1) and timeframe = '1m'`,
    [o.symbols],
  );
  if (!rows[0]?.ts)
    throw new Error(`symbols: no 1m bars stored for ${o.symbols.join(', ')}; run the backfill step first`);
  const date = nyDate(rows[0].ts.getTime());
  const { open, close } = sessionBounds(date);
  const bars = await loadBarsFromStore(o.pool, {
    symbols: o.symbols,
    timeframe: '1m',
    from: open,
    to: close,
  });
  const creds = { keyId: `DEMO${randomUUID().slice(0, 8)}`, secret: randomUUID() };
  const sim = await startSimulatorServer({
    bars,
    keyId: creds.keyId,
    secretKey: creds.secret,
    startAt: open - 60_000,
  });
  const connection = await NativeConnection.connect({ address: o.temporalAddress });
  const ioQueue = `demo-session-io-${randomUUID()}`;
  const execQueue = `demo-session-exec-${randomUUID()}`;
  const broker = new AlpacaBroker({
    ...creds,
    baseUrl: sim.url,
    dataBaseUrl: sim.dataUrl,
    streamUrl: sim.streamUrl,
  });
  try {
    const ioWorker = await Worker.create({
      connection,
      namespace: o.namespace,
      taskQueue: ioQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createSessionActivities({ bars: new PgBarSource(o.pool), pool: o.pool }),
    });
    const execWorker = await Worker.create({
      connection,
      namespace: o.namespace,
      taskQueue: execQueue,
      activities: createExecutionActivities({ broker, replay: httpReplayDriver(sim.url) }),
    });
    const workflowId = `demo-session-${date}-${randomUUID().slice(0, 8)}`;
    const result = await ioWorker.runUntil(
      execWorker.runUntil(async () => {
        const handle = await o.client.workflow.start('tradingSessionWorkflow', {
          taskQueue: ioQueue,
          workflowId,
          args: [
            {
              sessionId: workflowId,
              account: 'demo',
              mode: 'replay' as const,
              date,
              candidates: o.symbols,
              maxBars: o.maxBars ?? 120,
              taskQueues: { io: ioQueue, execution: execQueue },
            },
          ],
        });
        const base = (o.uiUrl ?? 'http://127.0.0.1:8233').replace(/\/+$/, '');
        log(
          `   watch the session: ${base}/namespaces/${o.namespace}/workflows/${encodeURIComponent(workflowId)}`,
        );
        log(`   simulator state:   ${sim.url}/sim/state`);
        return await waitForWorkflow<SessionResult>(handle);
      }),
    );
    return `replayed ${date} (${o.maxBars ?? 120} bars, ${o.symbols.length} symbols) on the simulator: ${result.ordersPlaced} orders placed once each, day P&L $${result.dailyPnl.toFixed(2)}, flat at the close: ${result.finalPositions.length === 0}`;
  } finally {
    await broker.close();
    await connection.close();
    await sim.close();
  }
}

/** A demo step in the shape of cli/commands/demo.ts `demoSteps` entries. */
export const sessionDemoStep = {
  title: 'trading: a replayed paper session through Temporal on the local Alpaca-compatible simulator',
  async run(
    ctx: { client: Client; config: AppConfig; state: StackState },
    symbols: readonly string[],
  ): Promise<string> {
    const pool = createPool(ctx.state.postgres.url, { max: 4 });
    try {
      return await runReplaySessionDemo({
        client: ctx.client,
        temporalAddress: ctx.state.temporal.address,
        namespace: ctx.config.TEMPORAL_NAMESPACE,
        pool,
        symbols,
        uiUrl: ctx.state.temporal.uiUrl,
      });
    } finally {
      await pool.end();
    }
  },
};
