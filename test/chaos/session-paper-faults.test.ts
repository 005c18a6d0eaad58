import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { marketDataStreamWorkflowId, type MarketDataStreamResult } from '../../contracts/market-data';
import type { SessionResult } from '../../contracts/session';
import type { SimulatorServer } from '../../src/execution/simulator/server';
import type { Bar } from '../../src/model/bar';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  PAPER_CREDS,
  PAPER_OPEN,
  createPaperWorkers,
  paperBacktest,
  paperSessionInput,
  placements,
  seedVenueDay,
  startPaperVenue,
  venueBars,
} from '../support/paper-session';
import {
  TEST_TEMPORAL_ADDRESS,
  connectTemporal,
  uniqueQueue,
  type TemporalTestContext,
} from '../support/temporal';

const SYMBOLS = ['PFA', 'PFB', 'PFC', 'PFD'];
/**
 * The venue's pace: 8 simulated minutes per wall minute, a bar every 7.5 s of wall time. A SIGKILLed stream
 * worker is noticed when its heartbeat times out (1 s, on a server whose timers fire on a one-second grid) and
 * the activity is retried after the workflow's 1 s backoff on the standby worker, which is already polling:
 * about 2–3 s from the kill to a consumer resuming from the store, inside one bar even on a loaded machine (at
 * 12× a full suite's load once stretched it past a bar: two extra orders). A faster venue (60×: a bar a
 * second) would leave bars unseen by the decisions that need them — the session then decides on stale data and
 * trades differently — however quickly the activity resumed; a slower one only makes the test longer.
 */
const SPEED = 8;
/** A day cut to the calendar's first 50 minutes (about 6 minutes of wall time), flat before its end. */
const BARS = 50;
const MIN = 60_000;
const REPO_ROOT = resolve(__dirname, '../..');
/** Faults, each right after the venue's minute `at` is stored: kill the consumer's worker, or drop the sockets. */
const PLAN: ReadonlyArray<readonly ['kill' | 'drop', number]> = [
  ['kill', 6],
  ['drop', 14],
  ['kill', 22],
  ['drop', 30],
  ['kill', 38],
];

interface StreamWorker {
  readonly child: ChildProcess;
  /** the worker's identity as Temporal records it (pid@host) */
  readonly pid: number;
}

/** A stream worker in its own process (node directly, so its pid is the worker's). */
function startStreamWorker(dbUrl: string, taskQueue: string, simUrl: string): Promise<StreamWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/stream-worker.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      TASK_QUEUE: taskQueue,
      TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
      SIM_URL: simUrl,
      APCA_API_KEY_ID: PAPER_CREDS.keyId,
      APCA_API_SECRET_KEY: PAPER_CREDS.secret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) ok({ child, pid: child.pid! });
    });
    child.once('exit', (code) => fail(new Error(`stream-worker exited early with ${code}`)));
  });
}

function killHard(w: StreamWorker): Promise<void> {
  return new Promise((ok) => {
    if (w.child.exitCode !== null || w.child.signalCode !== null) return ok();
    w.child.once('exit', () => ok());
    w.child.kill('SIGKILL');
  });
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Acceptance 2 of issue 15: a paper trading day on the simulator (its own clock, bars only through the stream)
 * while the stream consumer's worker is SIGKILLed three times and the simulator drops the websocket twice. Two
 * stream workers poll the stream's own task queue, in processes apart from the session's io worker; a killed
 * one is replaced and becomes the next standby. At the end every minute of the day is stored exactly once with
 * the venue's values, every order was placed once, and the orders are the backtest's (order-list hash).
 */
describe('paper session under stream faults (issue 15, acceptance 2)', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;
  let dayBars: Bar[];
  const streamWorkers = new Set<StreamWorker>();

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_paperf_venue');
    storeDb = await createTestDatabase('tt_paperf_store');
    await seedVenueDay(venueDb.pool, SYMBOLS, 31);
    dayBars = await venueBars(venueDb.pool, SYMBOLS);
    sim = await startPaperVenue(venueDb.pool, SYMBOLS, PAPER_OPEN - 2 * MIN);
  });
  after(async () => {
    for (const w of streamWorkers) await killHard(w);
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  test('when the stream’s worker is SIGKILLed three times and the websocket dropped twice during the day, then every minute is stored once, no order is duplicated and the orders equal the backtest’s', async (ctx) => {
    const streamQueue = uniqueQueue('paper-stream');
    const spawnWorker = async () => {
      const w = await startStreamWorker(storeDb.url, streamQueue, sim.url);
      streamWorkers.add(w);
      return w;
    };
    await Promise.all([spawnWorker(), spawnWorker()]);
    const workers = await createPaperWorkers(t, storeDb, sim, { streamQueue });
    const account = `F${randomUUID().slice(0, 8)}`;
    const input = paperSessionInput(workers, SYMBOLS, {
      account,
      maxBars: BARS,
      stream: { heartbeatTimeoutMs: 1_000, clockPollMs: 200, closeGraceMs: 500 },
    });
    const stream = t.client.workflow.getHandle(marketDataStreamWorkflowId({ account, date: input.date }));
    const storedThrough = async (minute: number) => {
      const r = await storeDb.pool.query<{ n: string }>(
        `select count(*)::text as n from bars where timeframe = '1m' and ts = $1`,
        [new Date(PAPER_OPEN + minute * MIN)],
      );
      return Number(r.rows[0]!.n) === SYMBOLS.length;
    };
    /** The stream activity while it runs: its attempt and the worker that holds it. */
    const running = async () => {
      const d = await stream.describe();
      const a = d.raw.pendingActivities?.[0];
      return {
        attempt: a?.attempt ?? 0,
        started: String(a?.state) === 'PENDING_ACTIVITY_STATE_STARTED' || Number(a?.state) === 2,
        identity: a?.lastWorkerIdentity ?? '',
      };
    };

    const faults: string[] = [];
    let session: SessionResult;
    try {
      sim.replay.start(SPEED);
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: workers.ioQueue,
        workflowId: `test-paper-faults-${input.sessionId}`,
        args: [input],
      });
      for (const [fault, at] of PLAN) {
        await waitFor(`minute ${at} stored`, () => storedThrough(at), 120_000);
        if (fault === 'kill') {
          const before = await running();
          const victim = [...streamWorkers].find((w) => before.identity.startsWith(`${w.pid}@`));
          assert.ok(victim, `the stream activity runs on one of our workers (${before.identity})`);
          await killHard(victim);
          streamWorkers.delete(victim);
          faults.push(`kill@${at}`);
          const replacement = spawnWorker(); // the next standby
          await waitFor('the retried stream activity on the standby', async () => {
            const now = await running();
            return now.started && now.attempt > before.attempt;
          });
          await replacement;
        } else {
          const subscribes = sim.marketData.stats.subscribes;
          const dropped = sim.dropStreams();
          assert.ok(dropped >= 1, 'the drop cut the consumer’s socket');
          faults.push(`drop@${at}`);
          await waitFor('the reconnect', () => sim.marketData.stats.subscribes > subscribes);
        }
      }
      session = (await handle.result()) as SessionResult;
      await stream.cancel();
      const ended = (await stream.result()) as MarketDataStreamResult;
      assert.equal(ended.stopped, true, 'the stream was stopped after the session’s day');
    } finally {
      await workers.shutdown();
    }
    ctx.diagnostic(`faults at venue minutes: ${faults.join(', ')}`);
    assert.equal(faults.length, PLAN.length, 'every fault happened during the day');

    // every minute of the day stored once, with the venue's values
    const dayEnd = PAPER_OPEN + BARS * MIN;
    const stored = await storeDb.pool.query<{ symbol: string; n: string; distinct: string }>(
      `select symbol, count(*)::text as n, count(distinct ts)::text as distinct from bars
        where timeframe = '1m' and ts >= $1 and ts < $2 group by symbol order by symbol`,
      [new Date(PAPER_OPEN), new Date(dayEnd)],
    );
    assert.deepEqual(
      stored.rows.map((r) => `${r.symbol}:${r.n}:${r.distinct}`),
      SYMBOLS.map((s) => `${s}:${BARS}:${BARS}`),
      'every minute of every symbol, once',
    );
    const storedBars = await venueBars(storeDb.pool, SYMBOLS);
    const key = (b: Bar) => `${b.symbol}|${b.ts}|${b.open}|${b.high}|${b.low}|${b.close}|${b.volume}`;
    assert.deepEqual(
      storedBars.filter((b) => b.ts < dayEnd).map(key),
      dayBars.filter((b) => b.ts < dayEnd).map(key),
      'the stored bars are the venue’s',
    );
    const receipts = await storeDb.pool.query<{ path: string; n: string }>(
      `select path, count(*)::text as n from bar_receipts where ts < $1 group by path order by path`,
      [new Date(dayEnd)],
    );
    ctx.diagnostic(`bars by path: ${receipts.rows.map((r) => `${r.path} ${r.n}`).join(', ')}`);
    const history = await stream.fetchHistory();
    const attempts = history
      .events!.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
      .reduce((a, b) => Math.max(a, b), 0);
    assert.ok(attempts >= 4, `the stream activity was retried after each kill (${attempts} attempts)`);

    // no order twice, and the backtest's orders
    const { accepted } = placements(sim);
    assert.equal(accepted.size, session.ordersPlaced, 'one accepted placement per order');
    assert.ok(
      [...accepted.values()].every((n) => n === 1),
      'no order placed twice',
    );
    const backtest = paperBacktest(dayBars, SYMBOLS, input.sessionId, dayEnd);
    ctx.diagnostic(
      `session: ${session.ordersPlaced} orders, hash ${session.orderHash}; backtest: ${backtest.submitted} submitted, ${backtest.orderHash}`,
    );
    assert.ok(backtest.submitted >= 20, `enough orders to compare (${backtest.submitted})`);
    assert.equal(session.orderHash, backtest.orderHash, 'order-list hash');
    assert.equal(session.ordersPlaced, backtest.submitted - backtest.rejectedByBroker, 'orders placed');
    assert.deepEqual(
      session.finalPositions.filter((p) => p.qty !== 0),
      [],
      'flat at the end of the shortened day',
    );
  });
});
