/**
 * A paper trading day against the local simulator as a live venue, for the paper-session tests: the venue's day
 * lives in its own database (as a real venue's data is not ours), the simulator reads it from there and plays it
 * on its own running clock, and the session's workers use another database that receives bars only through the
 * market-data websocket stream. The backtest side reads the venue's database (the same bars the venue played).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { OperatorLimits, SessionInput, StrategySpec } from '../../contracts/session';
import { createExecutionActivities } from '../../activities/execution.activities';
import { createMarketDataActivities } from '../../activities/market-data.activities';
import { createSessionActivities } from '../../activities/session.activities';
import { runBacktest, type BacktestResult } from '../../src/backtest/engine';
import { alpacaEndpointsFromConfig } from '../../src/data/sources';
import { alpacaVenueClock } from '../../src/data/stream/venue-clock';
import { TickStore } from '../../src/data/tick-store';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { loadBarsFromStore } from '../../src/execution/simulator/replay';
import { startSimulatorServer, type SimulatorServer } from '../../src/execution/simulator/server';
import { barsToColumns, type Bar } from '../../src/model/bar';
import { withOperatorLimits } from '../../src/risk/types';
import { PgBarSource } from '../../src/storage/bar-store';
import { createStrategy } from '../../src/strategy/registry';
import type { TestDatabase } from './db';
import { workflowBundle } from './session-harness';
import { syntheticDayBars } from './sim-bars';
import type { TemporalTestContext } from './temporal';

/**
 * The day after Thanksgiving 2024: NYSE closes at 13:00, so the calendar's whole trading day is 210 minutes
 * (3.5 minutes of wall time at 60×) and ends with the exchange's own close.
 */
export const PAPER_DAY = '2024-11-29';
export const { open: PAPER_OPEN, close: PAPER_CLOSE } = sessionBounds(PAPER_DAY);
export const PAPER_MINUTES = (PAPER_CLOSE - PAPER_OPEN) / 60_000;
export const PAPER_CREDS = { keyId: 'PKPAPERDAY', secret: 'paper-day-secret' } as const;

/** The session's risk settings in the paper tests (the backtest is given the same). */
export const PAPER_LIMITS: OperatorLimits = {
  maxPositionFraction: 0.05,
  maxGrossExposure: 1,
  dailyLossLimit: 0.03,
  maxOrderNotional: 25_000,
  maxOrdersPerCycle: 200,
};
export const PAPER_STRATEGY: StrategySpec = { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04 };
export const PAPER_SEED = 7;

/** Stores the venue's day: every minute of every symbol (real rows, as a vendor's day would be). */
export async function seedVenueDay(pool: Pool, symbols: readonly string[], seed = 23): Promise<Bar[]> {
  const bars = syntheticDayBars({ date: PAPER_DAY, symbols, minutes: PAPER_MINUTES, seed });
  await new TickStore(pool).upsertBars(bars, 'venue');
  return bars;
}

/** The venue's stored day, as the simulator and the backtest read it. */
export function venueBars(pool: Pool, symbols: readonly string[]): Promise<Bar[]> {
  return loadBarsFromStore(pool, { symbols, timeframe: '1m', from: PAPER_OPEN, to: PAPER_CLOSE });
}

/**
 * The simulator over the venue's day (read from the venue's database, as `trader simulator start --database`
 * does), its clock standing at `startAt` until the test starts it.
 */
export async function startPaperVenue(
  venue: Pool,
  symbols: readonly string[],
  startAt: number,
): Promise<SimulatorServer> {
  return startSimulatorServer({
    bars: await venueBars(venue, symbols),
    keyId: PAPER_CREDS.keyId,
    secretKey: PAPER_CREDS.secret,
    startingCash: 100_000,
    startAt,
  });
}

export interface PaperWorkers {
  readonly ioQueue: string;
  readonly execQueue: string;
  /** the stream activity's queue: the io queue, or a queue served by another process */
  readonly streamQueue: string;
  shutdown(): Promise<void>;
}

/**
 * The session's workers as deployed: an io worker (the workflows, the session activities reading bars from the
 * session's store and — unless `streamQueue` names a queue another process serves — the market-data stream
 * activity writing into it), and an execution worker holding the simulator as its paper broker, with the
 * venue's clock.
 */
export async function createPaperWorkers(
  t: TemporalTestContext,
  store: TestDatabase,
  sim: SimulatorServer,
  opts: {
    streamQueue?: string;
    /** more io activities (the routines' backfill, report and alert steps) */
    io?: (endpoints: ReturnType<typeof alpacaEndpointsFromConfig>) => Record<string, unknown>;
  } = {},
): Promise<PaperWorkers> {
  const ioQueue = `paper-io-${randomUUID()}`;
  const execQueue = `paper-exec-${randomUUID()}`;
  const endpoints = alpacaEndpointsFromConfig({
    APCA_API_KEY_ID: PAPER_CREDS.keyId,
    APCA_API_SECRET_KEY: PAPER_CREDS.secret,
    APCA_API_BASE_URL: sim.url,
    APCA_DATA_BASE_URL: undefined,
    TRADING_MODE: 'paper',
  });
  const io = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: ioQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...createSessionActivities({ bars: new PgBarSource(store.pool), pool: store.pool }),
      ...(opts.streamQueue ? {} : createMarketDataActivities({ pool: store.pool, alpaca: endpoints })),
      ...(opts.io?.(endpoints) ?? {}),
    },
  });
  const exec = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: execQueue,
    activities: createExecutionActivities({
      broker: new AlpacaBroker({
        keyId: PAPER_CREDS.keyId,
        secret: PAPER_CREDS.secret,
        baseUrl: sim.url,
        dataBaseUrl: sim.dataUrl,
        timeoutMs: 3_000,
      }),
      venue: {
        mode: 'simulator',
        clock: alpacaVenueClock({
          keyId: PAPER_CREDS.keyId,
          secret: PAPER_CREDS.secret,
          tradingBaseUrl: sim.url,
        }),
      },
    }),
  });
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const running = io.runUntil(exec.runUntil(stopped));
  return {
    ioQueue,
    execQueue,
    streamQueue: opts.streamQueue ?? ioQueue,
    async shutdown() {
      stop();
      await running;
    },
  };
}

/** A paper session of the simulator's day on these workers. */
export function paperSessionInput(
  workers: PaperWorkers,
  symbols: readonly string[],
  extra: Partial<SessionInput> = {},
): SessionInput {
  return {
    sessionId: `sess-paper-${randomUUID().slice(0, 8)}`,
    account: 'SIM-PAPER',
    mode: 'paper',
    date: PAPER_DAY,
    candidates: symbols,
    maxSymbols: symbols.length,
    strategy: PAPER_STRATEGY,
    seed: PAPER_SEED,
    limits: PAPER_LIMITS,
    taskQueues: { io: workers.ioQueue, execution: workers.execQueue, stream: workers.streamQueue },
    ...extra,
  };
}

/**
 * The in-process backtest over the venue's bars with the session's strategy, seed, limits and order ids.
 * `dayEndsAt`: a session day cut short (maxBars) flattens before its end; the backtest is told the same instant
 * through its flatten window (it knows only the exchange's close).
 */
export function paperBacktest(
  bars: readonly Bar[],
  symbols: readonly string[],
  sessionId: string,
  dayEndsAt?: number,
): BacktestResult {
  const flattenBarsBeforeClose = 2;
  return runBacktest({
    strategy: createStrategy(PAPER_STRATEGY),
    series: symbols.map((s) =>
      barsToColumns(
        s,
        '1m',
        bars.filter((b) => b.symbol === s && (dayEndsAt === undefined || b.ts < dayEndsAt)),
      ),
    ),
    startingCash: 100_000,
    seed: PAPER_SEED,
    session: sessionId,
    risk: withOperatorLimits(PAPER_LIMITS),
    ...(dayEndsAt !== undefined
      ? { flattenBeforeCloseMs: PAPER_CLOSE - dayEndsAt + flattenBarsBeforeClose * 60_000 }
      : {}),
  });
}

/** Each client order id the venue accepted, and how many times a placement of it was attempted and accepted. */
export function placements(sim: SimulatorServer): { accepted: Map<string, number>; attempts: number } {
  const log = (
    sim.exchange as unknown as {
      placementLog: ReadonlyArray<{ clientOrderId: string; accepted: boolean }>;
    }
  ).placementLog;
  const accepted = new Map<string, number>();
  for (const p of log)
    if (p.accepted) accepted.set(p.clientOrderId, (accepted.get(p.clientOrderId) ?? 0) + 1);
  return { accepted, attempts: log.length };
}
