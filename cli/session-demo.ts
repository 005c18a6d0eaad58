import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { BackfillInput } from '../contracts/backfill';
import { marketDataStreamWorkflowId } from '../contracts/market-data';
import type { SessionResult, StrategySpec } from '../contracts/session';
import { createDataActivities } from '../activities/data.activities';
import { createExecutionActivities } from '../activities/execution.activities';
import { createMarketDataActivities } from '../activities/market-data.activities';
import { createSessionActivities } from '../activities/session.activities';
import type { AppConfig } from '../src/config/config';
import { alpacaEndpointsFromConfig } from '../src/data/sources';
import { alpacaVenueClock } from '../src/data/stream/venue-clock';
import { AlpacaBroker } from '../src/execution/alpaca/adapter';
import { sessionBounds } from '../src/execution/simulator/calendar';
import { loadBarsFromStore } from '../src/execution/simulator/replay';
import { startSimulatorServer } from '../src/execution/simulator/server';
import { PgBarSource } from '../src/storage/bar-store';
import { MarketDataRepository } from '../src/storage/market-data-repo';
import type { StackState } from '../src/stack/stack';
import { ensureVenueDatabase } from '../src/stack/venue';
import { createPool } from '../src/storage/pool';
import { waitForWorkflow } from './workflow-result';
import { ModelRegistry } from '../src/models/registry/registry';
import { sessionModelPorts } from '../src/models/serving/session-models';
import { AuditLog } from '../src/monitoring/audit/audit-log';
import { temporalOperatorResolver } from '../src/monitoring/audit/identity';
import { OrderAudit } from '../src/monitoring/audit/order-audit';
import { prometheusSessionMetrics } from '../src/monitoring/session-metrics';

/**
 * The demo's last step: a paper session on the local Alpaca-compatible simulator as a live venue. The venue's
 * day lives in the venue's own database (the store never held it); the simulator plays it on its own clock at
 * 60×, the session's io worker consumes its market-data websocket into the store, and the session decides on
 * those bars at the venue's pace and sends its orders to the simulator through the real SDK. Self-contained:
 * the simulator and the session's io and execution workers run in this process on private task queues.
 */
export interface PaperSessionDemoOptions {
  readonly client: Client;
  readonly temporalAddress: string;
  readonly namespace: string;
  /** the session's store (bars arrive here through the stream) */
  readonly pool: Pool;
  /** the venue's own store, holding its day */
  readonly venuePool: Pool;
  /** the venue's day (its "today") */
  readonly date: string;
  readonly symbols: readonly string[];
  readonly uiUrl?: string;
  /** bars the session trades (default 30: half a minute of wall time at 60×) */
  readonly maxBars?: number;
  /** the venue's pace (default 60) */
  readonly speed?: number;
  readonly log?: (line: string) => void;
  /** the registered model the session trades with MODEL_DEMO_STRATEGY (pinned id); none: sma-trend, the session's default strategy */
  readonly modelId?: string;
  /** the registry's artifact directory (with `modelId`) */
  readonly artifactDir?: string;
}

export async function runPaperSessionDemo(o: PaperSessionDemoOptions): Promise<string> {
  const log = o.log ?? ((l: string) => console.log(l));
  const speed = o.speed ?? 60;
  const maxBars = o.maxBars ?? 30;
  const { open, close } = sessionBounds(o.date);
  const bars = await loadBarsFromStore(o.venuePool, {
    symbols: o.symbols,
    timeframe: '1m',
    from: open,
    to: close,
  });
  if (!bars.length)
    throw new Error(`date: the venue's database holds no 1m bars of ${o.symbols.join(', ')} on ${o.date}`);
  const creds = { keyId: `DEMO${randomUUID().slice(0, 8)}`, secret: randomUUID() };
  // the venue's clock stands three minutes before the open until the session is about to start
  const sim = await startSimulatorServer({
    bars,
    keyId: creds.keyId,
    secretKey: creds.secret,
    startAt: open - 3 * 60_000,
  });
  const connection = await NativeConnection.connect({ address: o.temporalAddress });
  const ioQueue = `demo-paper-io-${randomUUID()}`;
  const execQueue = `demo-paper-exec-${randomUUID()}`;
  const broker = new AlpacaBroker({ ...creds, baseUrl: sim.url, dataBaseUrl: sim.dataUrl });
  const endpoints = alpacaEndpointsFromConfig({
    APCA_API_KEY_ID: creds.keyId,
    APCA_API_SECRET_KEY: creds.secret,
    APCA_API_BASE_URL: sim.url,
    APCA_DATA_BASE_URL: undefined,
    TRADING_MODE: 'paper',
  });
  const account = `demo-${randomUUID().slice(0, 8)}`;
  // as workers/activities.ts wires them: decisions, orders, fills, P&L and risk to this process's /metrics,
  // labelled by the trading mode (the demo trades paper) like a worker's
  const metrics = prometheusSessionMetrics('paper');
  try {
    const ioWorker = await Worker.create({
      connection,
      namespace: o.namespace,
      taskQueue: ioQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: {
        ...createSessionActivities({
          bars: new PgBarSource(o.pool),
          pool: o.pool,
          metrics,
          ...(o.modelId && o.artifactDir
            ? { predictions: sessionModelPorts({ pool: o.pool, artifactDir: o.artifactDir }) }
            : {}),
        }),
        ...createMarketDataActivities({ pool: o.pool, alpaca: endpoints }),
      },
    });
    const execWorker = await Worker.create({
      connection,
      namespace: o.namespace,
      taskQueue: execQueue,
      activities: createExecutionActivities({
        broker,
        venue: { mode: 'simulator', clock: alpacaVenueClock({ ...creds, tradingBaseUrl: sim.url }) },
        metrics,
        // as workers/activities.ts wires it: orders, cancels and fills to the audit log (the dashboard's fills)
        audit: {
          orders: new OrderAudit(new AuditLog(o.pool)),
          operators: temporalOperatorResolver(o.client),
        },
      }),
    });
    const workflowId = `demo-paper-${o.date}-${randomUUID().slice(0, 8)}`;
    const streamId = marketDataStreamWorkflowId({ account, date: o.date });
    const result = await ioWorker.runUntil(
      execWorker.runUntil(async () => {
        sim.replay.start(speed);
        const handle = await o.client.workflow.start('tradingSessionWorkflow', {
          taskQueue: ioQueue,
          workflowId,
          args: [
            {
              sessionId: workflowId,
              account,
              mode: 'paper' as const,
              date: o.date,
              candidates: o.symbols,
              maxBars,
              ...(o.modelId
                ? {
                    modelId: o.modelId,
                    strategy: MODEL_DEMO_STRATEGY,
                  }
                : {}),
              stream: { clockPollMs: 500, closeGraceMs: 500 },
              taskQueues: { io: ioQueue, execution: execQueue },
            },
          ],
        });
        const base = (o.uiUrl ?? 'http://127.0.0.1:8233').replace(/\/+$/, '');
        log(
          `   watch the session: ${base}/namespaces/${o.namespace}/workflows/${encodeURIComponent(workflowId)}`,
        );
        log(`   its market-data stream: ${base}/namespaces/${o.namespace}/workflows/${streamId}`);
        log(`   the simulator (${o.date} at ${speed}x): ${sim.url}/sim/clock, ${sim.url}/sim/state`);
        const r = await waitForWorkflow<SessionResult>(handle);
        // the venue's day goes on after the session's shortened one: stop its stream
        const stream = o.client.workflow.getHandle(streamId);
        await stream.cancel();
        await stream.result().catch(() => undefined);
        return r;
      }),
    );
    const receipts = await o.pool.query<{ path: string; n: string }>(
      `select path, count(*)::text as n from bar_receipts where stream_id = $1 group by path order by path`,
      [streamId],
    );
    // a bar keeps its first receipt: on a rerun the day's bars are in the store already and this stream adds none
    const byPath =
      receipts.rows.map((r) => `${r.n} via ${r.path}`).join(', ') ||
      'no new receipts: an earlier run stored these bars first';
    const journaled = await o.pool.query<{ n: string }>(
      `select count(*)::text as n from predictions where source = $1 and role = 'traded'`,
      [workflowId],
    );
    const decides = o.modelId
      ? `model-signal on model ${o.modelId} (${journaled.rows[0]!.n} predictions journaled with their inputs' hash)`
      : 'sma-trend (no model)';
    return `decided by ${decides}; paper session on the simulator's ${o.date} at ${speed}x (${maxBars} bars, ${o.symbols.length} symbols), bars through the websocket stream (${byPath}): ${result.ordersPlaced} orders placed once each, day P&L $${result.dailyPnl.toFixed(2)}, flat at the end: ${result.finalPositions.every((p) => p.qty === 0)}`;
  } finally {
    await broker.close();
    await connection.close();
    await sim.close();
  }
}

/**
 * Loads the venue's day into the venue's own database with the backfill's code (the same source and checks as
 * the demo's history), so the session's store never holds it before the stream delivers it.
 */
export async function loadVenueDay(
  venuePool: Pool,
  input: BackfillInput,
  date: string,
  sharedDataDir: string | undefined,
): Promise<number> {
  const fromMs = Date.parse(`${date}T00:00:00Z`);
  const data = createDataActivities({ repo: new MarketDataRepository(venuePool), sharedDataDir });
  let rows = 0;
  for (const chunk of await data.planBackfill({ ...input, fromMs, toMs: fromMs + 86_400_000 }))
    rows += (await data.ingestChunk(chunk)).rowsStored;
  return rows;
}

/**
 * The demo's model trader: model-signal holds the direction the model predicts on its feature set's 5-minute bars
 * (the demo's half-hour day is too short for reference-ai's filters to enter).
 */
export const MODEL_DEMO_STRATEGY: StrategySpec = { name: 'model-signal', timeframe: '5m', weight: 0.05 };

/** A demo step in the shape of cli/commands/demo.ts `demoSteps` entries. */
export const sessionDemoStep = {
  title:
    'trading: a paper session on the simulator as a live venue (its own clock at 60x), bars through the market-data stream, model-signal trading the champion',
  async run(
    ctx: { client: Client; config: AppConfig; state: StackState },
    symbols: readonly string[],
    date: string,
    /** the model the session trades: an id or champion[:name], pinned now (none: sma-trend) */
    modelRef?: string,
  ): Promise<string> {
    const pool = createPool(ctx.state.postgres.url, { max: 4 });
    const venuePool = createPool(await ensureVenueDatabase(ctx.state.postgres.url), { max: 2 });
    try {
      const rec = modelRef
        ? await new ModelRegistry(pool, ctx.config.artifactDir).resolveRef(modelRef, 'model')
        : undefined;
      return await runPaperSessionDemo({
        ...(rec ? { modelId: rec.id, artifactDir: ctx.config.artifactDir } : {}),
        client: ctx.client,
        temporalAddress: ctx.state.temporal.address,
        namespace: ctx.config.TEMPORAL_NAMESPACE,
        pool,
        venuePool,
        date,
        symbols,
        uiUrl: ctx.state.temporal.uiUrl,
      });
    } finally {
      await venuePool.end();
      await pool.end();
    }
  },
};
