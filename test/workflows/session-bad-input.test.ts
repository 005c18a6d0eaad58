import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { Worker } from '@temporalio/worker';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId, type SessionInput } from '../../contracts/session';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, seedReplayDay, workflowBundle } from '../support/session-harness';
import {
  TEST_TEMPORAL_ADDRESS,
  connectTemporal,
  uniqueQueue,
  type TemporalTestContext,
} from '../support/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);
const SYMBOLS = ['BIA', 'BIB'];

/**
 * Issue 18, "inputs that run forever or do the wrong thing": each bad `session start` is refused by the CLI
 * before anything starts (exit 2, the flag named), and no session workflow exists under the id it would have
 * used. The store holds a replay day of SYMBOLS (the unknown-symbol check reads it).
 */
describe('session start refuses bad input before anything starts (issue 18)', () => {
  let t: TemporalTestContext;
  let db: TestDatabase;

  before(async () => {
    t = await connectTemporal();
    db = await createTestDatabase('tt_badinput');
    await seedReplayDay(db, SYMBOLS, 30);
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'session', 'start', ...args], {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
        DATABASE_URL: db.url,
        // no venue: a replay needs none, and no stack's simulator is asked
        APCA_API_BASE_URL: '',
        APCA_API_KEY_ID: '',
        APCA_API_SECRET_KEY: '',
        TRADING_MODE: 'paper',
      },
      timeout: 60_000,
    }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  }

  async function exists(workflowId: string): Promise<boolean> {
    try {
      await t.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw e;
    }
  }

  const cases: ReadonlyArray<{ name: string; args: string[]; date?: string; error: RegExp }> = [
    {
      name: 'an impossible date (2013-13-45)',
      args: ['--date', '2013-13-45'],
      date: '2013-13-45',
      error: /--date: "2013-13-45" is not a date/,
    },
    {
      name: 'a word for a date (tomorrow)',
      args: ['--date', 'tomorrow'],
      date: 'tomorrow',
      error: /--date: "tomorrow" is not a date \(YYYY-MM-DD\)/,
    },
    {
      name: 'a day the exchange is closed (a Saturday)',
      args: ['--date', '2024-03-16'],
      date: '2024-03-16',
      error: /--date: 2024-03-16 is not an NYSE trading day \(Weekend\)/,
    },
    {
      name: '--max-bars 0 (was: a full day traded)',
      args: ['--max-bars', '0'],
      error: /--max-bars: 0 must be ≥ 1/,
    },
    {
      name: 'a non-numeric --max-bars',
      args: ['--max-bars', 'ten'],
      error: /--max-bars: "ten" is not a number/,
    },
    {
      name: 'a fractional --max-symbols',
      args: ['--max-symbols', '2.5'],
      error: /--max-symbols: 2\.5 must be an integer/,
    },
    { name: 'a non-numeric --seed', args: ['--seed', 'x1'], error: /--seed: "x1" is not a number/ },
    {
      name: 'a negative --replay-delay-ms',
      args: ['--replay-delay-ms', '-5'],
      error: /--replay-delay-ms: -5 must be ≥ 0/,
    },
    {
      name: 'an unknown strategy parameter',
      args: ['--strategy-params', '{"fast":3,"slow":8,"weight":0.04,"fastt":2}'],
      error: /--strategy-params: unknown key "fastt"/,
    },
    {
      name: 'a strategy parameter out of range',
      args: ['--strategy-params', '{"fast":9,"slow":8,"weight":0.04}'],
      error: /--strategy-params: slow: 8 must be an integer above fast \(9\)/,
    },
    {
      name: 'an unknown mode',
      args: ['--mode', 'backtest'],
      error: /--mode: "backtest" must be replay, paper or live/,
    },
    {
      name: 'a symbol of bad syntax',
      args: ['--symbols', `${SYMBOLS[0]},B$D`],
      error: /--symbols: "B\$D" is not a ticker symbol/,
    },
    {
      name: 'unknown symbols (no stored bars that day)',
      args: ['--symbols', `${SYMBOLS[0]},ZZQX,QQZY`],
      error: /--symbols: ZZQX, QQZY: no stored 1m bars on 2024-03-12/,
    },
    { name: 'zero execution slices', args: ['--algo-slices', '0'], error: /--algo-slices: 0 must be/ },
  ];

  for (const c of cases)
    test(`when session start is given ${c.name}, then it exits 2 naming the flag and no session workflow exists`, async () => {
      const account = `B${randomUUID().slice(0, 8)}`;
      const args = [
        '--mode',
        'replay',
        '--date',
        SESSION_DATE,
        '--symbols',
        SYMBOLS.join(','),
        '--account',
        account,
        '--strategy',
        'sma-trend',
        ...c.args,
      ];
      const r = await cli(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, c.error);
      assert.doesNotMatch(r.stdout, /started/);
      const mode = c.args[0] === '--mode' ? c.args[1]! : 'replay';
      assert.equal(
        await exists(sessionWorkflowId(account, c.date ?? SESSION_DATE, mode as 'replay')),
        false,
        'no session workflow was started',
      );
    });

  test('when a completed session id is started again, then it is refused naming --force; with --force a new run starts under a new session id', async () => {
    const account = `F${randomUUID().slice(0, 8)}`;
    const workflowId = sessionWorkflowId(account, SESSION_DATE, 'replay');
    // a session that ran: a completed execution under the session's id (a bare workflow stands in for it)
    const queue = uniqueQueue('bad-input');
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queue,
      workflowBundle: await workflowBundle(),
    });
    const first = await worker.runUntil(async () => {
      const h = await t.client.workflow.start('echoActivityWorkflow', {
        taskQueue: queue,
        workflowId,
        args: [{ count: 0, taskQueue: queue }],
      });
      await h.result();
      return h.firstExecutionRunId;
    });
    const args = [
      '--mode',
      'replay',
      '--date',
      SESSION_DATE,
      '--symbols',
      SYMBOLS.join(','),
      '--account',
      account,
      '--strategy',
      'sma-trend',
    ];
    const refused = await cli(args);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `session ${workflowId} already ran \\(completed at .*run ${first}\\).*pass --force to start a new run`,
      ),
    );
    const still = await t.client.workflow.getHandle(workflowId).describe();
    assert.equal(still.runId, first, 'no new run was started');

    const forced = await cli([...args, '--force']);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(
      forced.stdout,
      new RegExp(`started ${workflowId} \\(run .*\\), session id ${workflowId}\\.f`),
    );
    const handle = t.client.workflow.getHandle(workflowId);
    const now = await handle.describe();
    try {
      assert.notEqual(now.runId, first, 'a new run');
      assert.equal(now.type, SESSION_WORKFLOW_TYPE);
      assert.equal(now.status.name, 'RUNNING');
      const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      const [input] = (await decodeArrayFromPayloads(
        t.client.options.loadedDataConverter,
        started!.input!.payloads,
      )) as [SessionInput];
      assert.match(
        input.sessionId,
        new RegExp(`^${workflowId}\\.f[0-9a-z]+$`),
        'a new session id: new orders',
      );
    } finally {
      // no worker serves the production queue here: the new run is ended by the test
      await handle.terminate('test done');
    }
  });
});
