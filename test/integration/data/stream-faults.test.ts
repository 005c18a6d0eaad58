import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { MarketDataStreamInput, MarketDataStreamResult } from '../../../contracts/market-data';
import type { SimulatorServer } from '../../../src/execution/simulator/server';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  connectTemporal,
  TEST_TEMPORAL_ADDRESS,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';
import {
  CREDS,
  DAY,
  MINUTES,
  OPEN,
  dayChecksum,
  seedVenueDay,
  startVenue,
  storedDay,
  waitFor,
} from './stream-support';

const SYMBOLS = ['FA', 'FB', 'FC'];
const SPEED = 600; // 390 minutes in 39 s of wall time
const REPO_ROOT = resolve(__dirname, '../../..');

function startWorker(dbUrl: string, taskQueue: string, simUrl: string): Promise<ChildProcess> {
  const child = spawn('npx', ['tsx', 'test/support/stream-worker.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      TASK_QUEUE: taskQueue,
      TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
      SIM_URL: simUrl,
      APCA_API_KEY_ID: CREDS.keyId,
      APCA_API_SECRET_KEY: CREDS.secret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) ok(child);
    });
    child.on('exit', (code) => fail(new Error(`stream-worker exited early with ${code}`)));
  });
}

/** SIGKILL the whole process group (npx → tsx → node), like an OOM kill or a pulled plug. */
function killHard(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    child.on('exit', () => ok());
    process.kill(-child.pid!, 'SIGKILL');
  });
}

void describe('market-data stream under faults: SIGKILLed workers and dropped websockets', () => {
  let t: TemporalTestContext;
  let venueDb: TestDatabase;
  let storeDb: TestDatabase;
  let sim: SimulatorServer;

  before(async () => {
    t = await connectTemporal();
    venueDb = await createTestDatabase('tt_streamf_venue');
    storeDb = await createTestDatabase('tt_streamf_store');
    await seedVenueDay(venueDb.pool, SYMBOLS, []);
    sim = await startVenue(venueDb.pool, SYMBOLS);
  });
  after(async () => {
    await sim?.close();
    await t?.close();
    await venueDb?.drop();
    await storeDb?.drop();
  });

  void test('when the consumer’s worker is SIGKILLed three times and the simulator drops the websocket twice, then every minute of the day is stored exactly once', async (ctx) => {
    const taskQueue = uniqueQueue('stream-faults');
    const input: MarketDataStreamInput = {
      account: 'faults',
      date: DAY,
      symbols: SYMBOLS,
      clockPollMs: 200,
      closeGraceMs: 300,
      heartbeatTimeoutMs: 2_000,
      taskQueue,
    };
    // Workflows in this process; the stream activity in a child process that gets killed.
    const wfWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
    });
    const minute = () => (sim.replay.watermark - OPEN) / 60_000;
    const faults: string[] = [];
    let child: ChildProcess | undefined;
    const result = (await wfWorker.runUntil(async () => {
      child = await startWorker(storeDb.url, taskQueue, sim.url);
      const handle = await t.client.workflow.start('marketDataStreamWorkflow', {
        taskQueue,
        workflowId: taskQueue,
        args: [input],
      });
      await waitFor('the first subscription', () => sim.marketData.stats.subscribes >= 1);
      sim.replay.start(SPEED);
      const plan: Array<['kill' | 'drop', number]> = [
        ['kill', 30],
        ['drop', 100],
        ['kill', 130],
        ['drop', 200],
        ['kill', 230],
      ];
      for (const [fault, at] of plan) {
        const subscribes = sim.marketData.stats.subscribes;
        await waitFor(`venue minute ${at}`, () => minute() >= at);
        if (fault === 'kill') {
          await killHard(child!);
          faults.push(`kill@${minute()}`);
          child = await startWorker(storeDb.url, taskQueue, sim.url);
          // The retried activity is running again (subscribed) before the next fault.
          await waitFor('the resumed subscription', () => sim.marketData.stats.subscribes > subscribes);
        } else {
          await waitFor('a connected consumer', () => sim.marketData.connections >= 1);
          const res = await fetch(`${sim.url}/sim/drop-streams`, { method: 'POST' });
          const { dropped } = (await res.json()) as { dropped: number };
          assert.ok(dropped >= 1, 'the drop cut the consumer’s socket');
          faults.push(`drop@${minute()}`);
          await waitFor('the reconnect', () => sim.marketData.stats.subscribes > subscribes);
        }
      }
      try {
        return await handle.result();
      } finally {
        await killHard(child!);
      }
    })) as MarketDataStreamResult;

    ctx.diagnostic(`faults at venue minutes: ${faults.join(', ')}`);
    assert.equal(faults.length, 5, `every fault was applied during the day: ${faults.join(', ')}`);
    assert.ok(
      faults.every((f) => Number(f.split('@')[1]) < MINUTES),
      `the faults happened before the close: ${faults.join(', ')}`,
    );
    assert.equal(result.stopped, false);

    const stored = await storedDay(storeDb.pool);
    assert.deepEqual(
      stored.bars,
      Object.fromEntries(SYMBOLS.map((s) => [s, MINUTES])),
      'every minute of every symbol, once (the key is symbol, timeframe, ts)',
    );
    assert.equal(await dayChecksum(storeDb.pool), await dayChecksum(venueDb.pool), 'no gap, nothing altered');
    const receipts = await storeDb.pool.query<{ path: string; n: string }>(
      `select path, count(*)::text as n from bar_receipts group by path order by path`,
    );
    const byPath = Object.fromEntries(receipts.rows.map((r) => [r.path, Number(r.n)]));
    assert.equal((byPath.rest ?? 0) + (byPath.stream ?? 0), SYMBOLS.length * MINUTES, 'one receipt per bar');
    assert.ok((byPath.rest ?? 0) > 0, 'the gaps were filled through REST');
    assert.ok((byPath.stream ?? 0) > 0);

    // The activity was retried after each kill and finished on the fourth attempt or later.
    const history = await t.client.workflow.getHandle(taskQueue).fetchHistory();
    const attempts = history
      .events!.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
      .reduce((a, b) => Math.max(a, b), 0);
    assert.ok(attempts >= 4, `the stream activity ran ${attempts} attempts`);
  });
});
