import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { SessionInput, SessionResult } from '../../contracts/session';
import type { SimulatorFaults } from '../../src/execution/simulator/server';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  seedReplayDay,
  sessionInput,
  startReplaySimulator,
  startSessionEnv,
  workflowBundle,
} from '../support/session-harness';
import { connectTemporal, TEST_TEMPORAL_ADDRESS, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['CHA', 'CHB', 'CHC', 'CHD', 'CHE'];
const CREDS = { keyId: 'PKCHAOSKEY', secret: 'chaos-secret' };
const SESSION_ID = 'sess-chaos';
const LIMITS = {
  maxPositionFraction: 0.04,
  maxGrossExposure: 1,
  dailyLossLimit: 0.5,
  maxOrderNotional: 50_000,
  maxOrdersPerCycle: 100,
};
const STRATEGY = { name: 'sma-trend' as const, fast: 2, slow: 4, weight: 0.04 };
const WORKER_ENTRY = resolve(__dirname, '../support/session-worker.ts');

/** Seeded PRNG: the kill schedule is random but reproducible. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('chaos: a replayed session survives SIGKILLed workers and a faulty broker', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let reference: SessionResult;

  before(async () => {
    db = await createTestDatabase('tt_session_chaos');
    await seedReplayDay(db, SYMBOLS, 30, 31);
    t = await connectTemporal();
    // The undisturbed run every disturbed run must reproduce.
    const env = await startSessionEnv(t, db, SYMBOLS, CREDS);
    try {
      const input = sessionInput(env.workers, SYMBOLS, {
        sessionId: SESSION_ID,
        limits: LIMITS,
        strategy: STRATEGY,
      });
      reference = (await t.client.workflow.execute('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `chaos-ref-${randomUUID()}`,
        args: [input],
      })) as SessionResult;
    } finally {
      await env.close();
    }
    assert.ok(reference.ordersPlaced >= 10, `the reference day trades (${reference.ordersPlaced} orders)`);
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  test('when the io and execution workers are SIGKILLed 20+ times at random moments and restarted, then the session completes with every order placed exactly once and the undisturbed positions', async () => {
    const sim = await startReplaySimulator(db, SYMBOLS, { keyId: CREDS.keyId, secretKey: CREDS.secret });
    const wfQueue = `chaos-wf-${randomUUID()}`;
    const ioQueue = `chaos-io-${randomUUID()}`;
    const execQueue = `chaos-exec-${randomUUID()}`;
    const spawnWorker = (role: 'io' | 'execution'): ChildProcess =>
      fork(WORKER_ENTRY, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        env: {
          ...process.env,
          ROLE: role,
          TASK_QUEUE: role === 'io' ? ioQueue : execQueue,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
          DATABASE_URL: db.url,
          SIM_URL: sim.url,
          APCA_API_KEY_ID: CREDS.keyId,
          APCA_API_SECRET_KEY: CREDS.secret,
        },
      });
    const procs: Record<'io' | 'execution', ChildProcess> = {
      io: spawnWorker('io'),
      execution: spawnWorker('execution'),
    };
    // Workflows run in this process; the activity workers are the ones killed.
    const wfWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: wfQueue,
      workflowBundle: await workflowBundle(),
    });
    let kills = 0;
    try {
      await wfWorker.runUntil(async () => {
        const input: SessionInput = {
          ...sessionInput({ ioQueue, execQueue }, SYMBOLS, {
            sessionId: SESSION_ID,
            limits: LIMITS,
            strategy: STRATEGY,
          }),
          activityTimeoutMs: 3_000,
        };
        const handle = await t.client.workflow.start('tradingSessionWorkflow', {
          taskQueue: wfQueue,
          workflowId: `chaos-${randomUUID()}`,
          args: [input],
        });
        const random = rng(20240312);
        let finished = false;
        const done = handle.result().finally(() => (finished = true));
        while (!finished && kills < 24) {
          await new Promise((r) => setTimeout(r, 200 + random() * 1_300));
          if (finished) break;
          const role = random() < 0.5 ? 'io' : 'execution';
          procs[role].kill('SIGKILL');
          kills++;
          procs[role] = spawnWorker(role);
        }
        const result = (await done) as SessionResult;
        assert.ok(
          kills >= 20,
          `killed workers ${kills} times before the session ended; give the day more bars if this fails`,
        );
        const accepted = sim.exchange.acceptedClientOrderIds().filter((c) => c.startsWith(`${SESSION_ID}:`));
        assert.equal(
          new Set(accepted).size,
          accepted.length,
          'no duplicate client order id at the simulator',
        );
        assert.equal(result.orderHash, reference.orderHash, 'the same intended orders, in the same order');
        assert.equal(accepted.length, reference.ordersPlaced, 'every intended order placed exactly once');
        assert.deepEqual(result.finalPositions, reference.finalPositions);
        assert.equal(result.dailyPnl, reference.dailyPnl);
      });
    } finally {
      for (const p of Object.values(procs)) p.kill('SIGKILL');
      await sim.close();
    }
  });

  test('when 20% of broker responses fail with 5xx/429 and every response is slowed, then the final orders are the same', async () => {
    const faults: SimulatorFaults = {
      errorRate: 0.2,
      latencyMs: 3,
      latencyJitterMs: 10,
      failAfterEffectShare: 0.5,
      seed: 99,
    };
    const env = await startSessionEnv(t, db, SYMBOLS, CREDS, faults);
    try {
      const input = {
        ...sessionInput(env.workers, SYMBOLS, { sessionId: SESSION_ID, limits: LIMITS, strategy: STRATEGY }),
        activityTimeoutMs: 5_000,
      };
      const result = (await t.client.workflow.execute('tradingSessionWorkflow', {
        taskQueue: input.taskQueues!.io!,
        workflowId: `chaos-faults-${randomUUID()}`,
        args: [input],
      })) as SessionResult;
      assert.ok(env.sim.stats.faulted > 10, `faults were injected (${env.sim.stats.faulted})`);
      const accepted = env.sim.exchange
        .acceptedClientOrderIds()
        .filter((c) => c.startsWith(`${SESSION_ID}:`));
      assert.equal(new Set(accepted).size, accepted.length);
      assert.equal(result.orderHash, reference.orderHash);
      assert.equal(accepted.length, reference.ordersPlaced);
      assert.deepEqual(result.finalPositions, reference.finalPositions);
    } finally {
      await env.close();
    }
  });
});
