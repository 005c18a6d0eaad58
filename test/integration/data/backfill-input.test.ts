/**
 * Bad backfill input is refused before anything runs: the workflow fails on its first task with a
 * non-retryable ValidationError naming the field (no activity scheduled), and the CLI refuses bad flags
 * before it connects to anything.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createDataActivities } from '../../../activities/data.activities';
import { MarketDataRepository } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  connectTemporal,
  uniqueQueue,
  WORKFLOWS_PATH,
  type TemporalTestContext,
} from '../../support/temporal';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const VALID = {
  symbols: ['SPY'],
  timeframes: ['1d'],
  fromMs: Date.UTC(2024, 0, 1),
  toMs: Date.UTC(2024, 1, 1),
  source: { kind: 'synthetic', seed: 1 },
};

void describe('backfill input', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  before(async () => {
    db = await createTestDatabase('tt_backfill_input');
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  void test('when the workflow is started with bad input, then it fails at once, non-retryable, naming the field, and schedules no activity', async () => {
    const queue = uniqueQueue('backfill-input');
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createDataActivities({ repo: new MarketDataRepository(db.pool) }),
    });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ source: { kind: 'csv', dataset: '../../etc' } }, /source\.dataset: a set is a folder name/],
      [{ source: { kind: 'csv', dataset: '/etc' } }, /source\.dataset: /],
      [{ source: { kind: 'synthetic' } }, /source\.seed: /],
      [
        { source: { kind: 'ftp' } },
        /source\.kind: kind must be csv, synthetic, alpaca, alpaca-quotes, alpaca-trades, polygon or unusual-whales/,
      ],
      [{ fromMs: 'tomorrow' }, /fromMs: fromMs must be epoch milliseconds/],
      [{ fromMs: Date.UTC(1013, 0, 1) }, /fromMs: fromMs is before 1900-01-01/],
      [{ toMs: Date.UTC(2023, 0, 1) }, /toMs: must be after the start/],
      [{ symbols: [] }, /symbols: at least one symbol is needed/],
      [{ symbols: ['SPY', '../x'] }, /symbols\.1: not a ticker symbol/],
      [{ timeframes: ['2m'] }, /timeframes\.0: /],
      [{ maxParallel: 0 }, /maxParallel: /],
      [{ colour: 'red' }, /Unrecognized key: "colour"/],
    ];
    await worker.runUntil(async () => {
      for (const [patch, re] of cases) {
        const workflowId = uniqueQueue('bad-backfill');
        const err = await t.client.workflow
          .execute('backfillWorkflow', { taskQueue: queue, workflowId, args: [{ ...VALID, ...patch }] })
          .then(
            () => assert.fail(`${JSON.stringify(patch)} must fail`),
            (e: unknown) => e,
          );
        assert.ok(err instanceof WorkflowFailedError, String(err));
        const cause = err.cause;
        assert.ok(cause instanceof ApplicationFailure, String(cause));
        assert.equal(cause.type, 'ValidationError');
        assert.equal(cause.nonRetryable, true);
        assert.match(cause.message, re, JSON.stringify(patch));
        const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
        // the only activity a failed backfill schedules is the failure's own record (the workflow-failure metric)
        assert.ok(
          !history.events!.some(
            (e) =>
              e.activityTaskScheduledEventAttributes &&
              e.activityTaskScheduledEventAttributes.activityType?.name !== 'recordWorkflowFailure',
          ),
          `${JSON.stringify(patch)}: no activity was scheduled`,
        );
      }
    });
  });

  void test('when `trader backfill` or `trader data bars` get a bad date, then they exit 1 naming the flag before connecting to anything', async () => {
    // Temporal and PostgreSQL point at a closed port: reaching them would be a different error.
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    };
    const cli = (...args: string[]) =>
      run('npx', ['tsx', 'cli/main.ts', ...args], { cwd: ROOT, env }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const [backfill, bars, noSource] = await Promise.all([
      cli(
        'backfill',
        '-s',
        'SPY',
        '--from',
        '2013-13-45',
        '--to',
        '2013-11-01',
        '--source',
        'csv:lean_equity_usa',
      ),
      cli('data', 'bars', 'SPY', '--from', 'tomorrow', '--to', '2013-10-08'),
      cli('backfill', '-s', 'SPY', '--from', '2013-10-01', '--to', '2013-11-01'),
    ]);
    assert.equal(backfill.code, 1);
    assert.match(backfill.stderr, /error: backfill: --from: "2013-13-45" is not a real calendar date/);
    assert.equal(bars.code, 1);
    assert.match(bars.stderr, /error: data bars: --from: "tomorrow" is not a date/);
    assert.equal(noSource.code, 1);
    assert.match(noSource.stderr, /error: backfill: --source: is required/);
  });
});
