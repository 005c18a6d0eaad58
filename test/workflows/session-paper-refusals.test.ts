import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { marketDataStreamWorkflowId } from '../../contracts/market-data';
import { sessionWorkflowId } from '../../contracts/session';
import { createSessionActivities } from '../../activities/session.activities';
import { LIVE_TRADING_CONFIRMATION } from '../../src/config/config';
import { startSimulatorServer, type SimulatorServer } from '../../src/execution/simulator/server';
import { PgBarSource } from '../../src/storage/bar-store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  PAPER_CREDS,
  PAPER_DAY,
  PAPER_OPEN,
  createPaperWorkers,
  paperSessionInput,
  seedVenueDay,
  startPaperVenue,
  venueBars,
} from '../support/paper-session';
import { workflowBundle } from '../support/session-harness';
import { TEST_TEMPORAL_ADDRESS, connectTemporal, type TemporalTestContext } from '../support/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);
const SYMBOLS = ['PRA', 'PRB'];
/** A trading day before the simulator's today (the Wednesday before Thanksgiving 2024). */
const PAST_DAY = '2024-11-27';

/** The failure chain of a failed workflow, messages joined. */
function causes(e: unknown): string {
  const out: string[] = [];
  for (let c = e as Error | undefined; c; c = (c as { cause?: Error }).cause) out.push(c.message);
  return out.join(' <- ');
}

async function streamStarted(t: TemporalTestContext, account: string, date: string): Promise<boolean> {
  try {
    await t.client.workflow.getHandle(marketDataStreamWorkflowId({ account, date })).describe();
    return true;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

/**
 * Acceptance 3 of issue 15: a paper session runs only for the venue's current trading day, and only on an
 * execution worker whose broker is a paper one. Each refusal names the fix, and nothing reaches a broker.
 */
describe('paper sessions are refused for a past day and on a live-configured worker (issue 15, acceptance 3)', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_paperr_venue');
    storeDb = await createTestDatabase('tt_paperr_store');
    await seedVenueDay(venueDb.pool, SYMBOLS);
    // the venue's today is PAPER_DAY (its clock stands before the open)
    sim = await startPaperVenue(venueDb.pool, SYMBOLS, PAPER_OPEN - 10 * 60_000);
  });
  after(async () => {
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  test('when a paper session is started for a past day, then the workflow fails naming the venue’s today and --mode replay, with no order and no stream', async () => {
    const workers = await createPaperWorkers(t, storeDb, sim);
    const account = `R${randomUUID().slice(0, 8)}`;
    const input = paperSessionInput(workers, SYMBOLS, { account, date: PAST_DAY });
    try {
      await assert.rejects(
        t.client.workflow.execute('tradingSessionWorkflow', {
          taskQueue: workers.ioQueue,
          workflowId: `test-paper-past-${input.sessionId}`,
          args: [input],
          workflowExecutionTimeout: '2 minutes',
        }),
        (e: unknown) => {
          assert.ok(e instanceof WorkflowFailedError, String(e));
          assert.match(
            causes(e),
            /date: 2024-11-27 is not the venue's current trading day \(2024-11-29\); a paper session trades today only — replay a past day with --mode replay/,
          );
          return true;
        },
      );
    } finally {
      await workers.shutdown();
    }
    assert.equal(sim.exchange.listOrders('all').length, 0, 'no order reached the venue');
    assert.equal(await streamStarted(t, account, PAST_DAY), false, 'no stream was started');
  });

  test('when `trader session start --mode paper --date <a past day>` runs, then it is refused before anything starts, naming the fix', async () => {
    const account = `C${randomUUID().slice(0, 8)}`;
    const r = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'cli/main.ts',
        'session',
        'start',
        '--mode',
        'paper',
        '--date',
        PAST_DAY,
        '--symbols',
        SYMBOLS.join(','),
        '--account',
        account,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
          APCA_API_BASE_URL: sim.url,
          APCA_API_KEY_ID: PAPER_CREDS.keyId,
          APCA_API_SECRET_KEY: PAPER_CREDS.secret,
          TRADING_MODE: 'paper',
        },
        timeout: 120_000,
      },
    ).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /--date: 2024-11-27 is not the venue's current trading day \(2024-11-29, by its clock\); a paper session trades the venue's today only — leave --date out, or replay a past day with --mode replay/,
    );
    await assert.rejects(
      t.client.workflow.getHandle(sessionWorkflowId(account, PAST_DAY, 'paper')).describe(),
      WorkflowNotFoundError,
      'no session workflow was started',
    );
  });

  test('when a paper session meets an execution worker configured for live trading, then it is refused naming the fix, and no order reaches the live broker', async () => {
    // the "live broker": a local server speaking Alpaca's API (the simulator, with live-looking keys)
    const liveKeys = { keyId: 'AKLIVEREFUSAL', secret: 'live-refusal-secret' };
    const live = await startSimulatorServer({
      bars: await venueBars(venueDb.pool, SYMBOLS),
      keyId: liveKeys.keyId,
      secretKey: liveKeys.secret,
      startAt: PAPER_OPEN - 10 * 60_000,
    });
    const prefix = `refusal-${randomUUID().slice(0, 8)}-`;
    let worker: ChildProcess | undefined;
    const ioQueue = `${prefix}session-io`;
    const io = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: ioQueue,
      workflowBundle: await workflowBundle(),
      activities: createSessionActivities({ bars: new PgBarSource(storeDb.pool), pool: storeDb.pool }),
    });
    const account = `L${randomUUID().slice(0, 8)}`;
    try {
      // the production execution worker, configured for live trading (the opt-in and keys)
      let banner = '';
      worker = spawn(process.execPath, ['--import', 'tsx', 'workers/execution.ts'], {
        cwd: root,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
          DATABASE_URL: storeDb.url,
          TASK_QUEUE_PREFIX: prefix,
          METRICS_PORT: '0',
          TRADING_MODE: 'live',
          LIVE_TRADING_CONFIRM: LIVE_TRADING_CONFIRMATION,
          APCA_API_KEY_ID: liveKeys.keyId,
          APCA_API_SECRET_KEY: liveKeys.secret,
          APCA_API_BASE_URL: live.url,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((ok, fail) => {
        const onData = (d: Buffer) => {
          banner += String(d);
          if (/polling/.test(banner)) ok();
        };
        worker!.stdout!.on('data', onData);
        worker!.stderr!.on('data', onData);
        worker!.once('exit', (code) => fail(new Error(`execution worker exited with ${code}: ${banner}`)));
      });
      assert.match(banner, /LIVE/, 'the worker says it trades live');

      const input = {
        ...paperSessionInput(
          { ioQueue, execQueue: `${prefix}execution`, streamQueue: ioQueue, shutdown: async () => {} },
          SYMBOLS,
        ),
        account,
      };
      await io.runUntil(
        assert.rejects(
          t.client.workflow.execute('tradingSessionWorkflow', {
            taskQueue: ioQueue,
            workflowId: `test-paper-on-live-${input.sessionId}`,
            args: [input],
            // a wrongly accepted session would wait for its day: fail fast instead
            workflowExecutionTimeout: '2 minutes',
          }),
          (e: unknown) => {
            assert.ok(e instanceof WorkflowFailedError, String(e));
            assert.match(
              causes(e),
              /mode paper: this execution worker trades a LIVE account \(TRADING_MODE=live\); run the session on a paper worker, or start it with --mode live/,
            );
            return true;
          },
        ),
      );
      assert.equal(live.exchange.listOrders('all').length, 0, 'no order reached the live broker');
      assert.equal(await streamStarted(t, account, PAPER_DAY), false, 'no stream was started');
    } finally {
      if (worker && worker.exitCode === null) {
        const exited = new Promise((r) => worker!.once('exit', r));
        worker.kill('SIGTERM');
        await exited;
      }
      await live.close();
    }
  });
});
