import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { marketDataStreamWorkflowId } from '../../contracts/market-data';
import type { DailyRoutineInput, DailyRoutineResult, SessionResult } from '../../contracts/session';
import { createDataActivities } from '../../activities/data.activities';
import { createRoutineActivities } from '../../activities/routines.activities';
import { createShutdownActivities } from '../../activities/shutdown.activities';
import { networkSourcesFromConfig } from '../../src/data/sources';
import type { SimulatorServer } from '../../src/execution/simulator/server';
import { PgBarSource } from '../../src/storage/bar-store';
import { MarketDataRepository } from '../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  PAPER_CLOSE,
  PAPER_CREDS,
  PAPER_DAY,
  PAPER_LIMITS,
  PAPER_OPEN,
  PAPER_SEED,
  PAPER_STRATEGY,
  createPaperWorkers,
  seedVenueDay,
  startPaperVenue,
  type PaperWorkers,
} from '../support/paper-session';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);
const SYMBOLS = ['PMA', 'PMB', 'PMC'];
const BARS = 20;

/**
 * The daily routines on a paper venue (the simulator on its day, at 60×): the pre-market routine reconciles,
 * gap-fills the previous day, pins the model, picks the universe and starts the stream and the session with the
 * configured strategy; after the venue's close the post-market routine backfills and checks the day, stores the
 * report that `trader session report --date` prints, and calls the retrain hook.
 */
describe('daily routines around a paper session (issue 15)', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;
  let workers: PaperWorkers;
  const alerts: string[] = [];

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_paperroutine_venue');
    storeDb = await createTestDatabase('tt_paperroutine_store');
    await seedVenueDay(venueDb.pool, SYMBOLS, 41);
    sim = await startPaperVenue(venueDb.pool, SYMBOLS, PAPER_OPEN - 4 * 60_000);
    workers = await createPaperWorkers(t, storeDb, sim, {
      io: () => ({
        ...createRoutineActivities({
          pool: storeDb.pool,
          bars: new PgBarSource(storeDb.pool),
          artifactDir: '/tmp',
        }),
        // the backfill child's activities, with Alpaca's REST at the venue (the simulator)
        ...createDataActivities({
          repo: new MarketDataRepository(storeDb.pool),
          ...networkSourcesFromConfig({
            APCA_API_KEY_ID: PAPER_CREDS.keyId,
            APCA_API_SECRET_KEY: PAPER_CREDS.secret,
            APCA_API_BASE_URL: sim.url,
            APCA_DATA_BASE_URL: undefined,
            TRADING_MODE: 'paper',
          }),
        }),
        ...createShutdownActivities({
          client: t.client,
          pool: storeDb.pool,
          alert: async (a) => void alerts.push(`${a.severity}: ${a.text}`),
        }),
      }),
    });
  });
  after(async () => {
    await workers?.shutdown();
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  test('when the pre-market routine runs before the open and the post-market one after the close, then the session trades the configured strategy through the stream and the day’s report is stored and printed', async () => {
    const account = `M${randomUUID().slice(0, 8)}`;
    const routine: DailyRoutineInput = {
      account,
      mode: 'paper',
      candidates: SYMBOLS,
      strategy: PAPER_STRATEGY,
      seed: PAPER_SEED,
      limits: PAPER_LIMITS,
      backfillSource: { kind: 'alpaca' },
      featureSet: null,
      maxBars: BARS,
      stream: { clockPollMs: 200, closeGraceMs: 300 },
      taskQueues: { io: workers.ioQueue, execution: workers.execQueue },
    };
    sim.replay.start(60);
    const pre = (await t.client.workflow.execute('preMarketRoutineWorkflow', {
      taskQueue: workers.ioQueue,
      workflowId: `test-pre-market-${account}`,
      args: [routine],
    })) as DailyRoutineResult;
    assert.equal(pre.date, PAPER_DAY, 'the venue’s day, by its clock');
    assert.equal(pre.sessionWorkflowId, `session-${account}-${PAPER_DAY}-paper`);
    assert.deepEqual(pre.universe, SYMBOLS);
    const steps = pre.steps!.join('\n');
    assert.match(steps, /^reconcile: equity 100000\.00, 0 positions, 0 open orders$/m);
    assert.match(steps, /^backfill 2024-11-27: 0 rows stored from alpaca \(gap fill\)$/m);
    assert.match(
      steps,
      new RegExp(`^stream: ${marketDataStreamWorkflowId({ account, date: PAPER_DAY })}$`, 'm'),
    );
    assert.match(steps, /^session: session-.* \(sma-trend\)$/m);

    const session = (await t.client.workflow.getHandle(pre.sessionWorkflowId!).result()) as SessionResult;
    assert.ok(session.ordersPlaced > 0, 'the session traded');
    // the venue's day runs to its close; the stream ends after it
    sim.replay.clock.advanceTo(PAPER_CLOSE + 1_000);
    sim.replay.sync();
    await t.client.workflow.getHandle(marketDataStreamWorkflowId({ account, date: PAPER_DAY })).result();

    const post = (await t.client.workflow.execute('postMarketRoutineWorkflow', {
      taskQueue: workers.ioQueue,
      workflowId: `test-post-market-${account}`,
      args: [routine],
    })) as DailyRoutineResult;
    const r = post.report!;
    assert.equal(r.sessionId, pre.sessionWorkflowId);
    assert.equal(r.pnl.daily, session.dailyPnl, 'P&L as the session recorded it');
    assert.equal(r.orders.placed, session.ordersPlaced, 'every order of the session, from the broker');
    assert.equal(r.orders.filled + r.orders.partiallyFilled + r.orders.unfilled, r.orders.placed);
    assert.ok(r.orders.filled > 0 && r.fills.notional > 0);
    assert.equal(typeof r.slippage.avgBps, 'number', 'slippage against the arrival price');
    assert.deepEqual(r.data, {
      expectedMinutes: 210,
      missing: Object.fromEntries(SYMBOLS.map((s) => [s, 0])),
    });
    assert.equal(r.flat, true);
    assert.deepEqual(r.tradedModels, [], 'the configured strategy traded without a model');
    assert.ok(alerts.some((a) => a.startsWith(`info: Post-market ${PAPER_DAY} (${account}): flat`)));
    assert.match(
      post.steps!.join('\n'),
      /^retrain: retrain trigger for .*: no learning loop on this worker/m,
    );

    const cli = await run(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'session', 'report', '--date', PAPER_DAY, '--account', account],
      { cwd: root, env: { ...process.env, DATABASE_URL: storeDb.url }, timeout: 60_000 },
    );
    assert.match(cli.stdout, new RegExp(`day ${PAPER_DAY}  account ${account}  paper`));
    assert.match(cli.stdout, new RegExp(`orders ${session.ordersPlaced}: filled ${r.orders.filled}`));
    assert.match(cli.stdout, /slippage vs arrival .*avg -?\d/);
    assert.match(cli.stdout, /decided by: no model/);
  });
});
