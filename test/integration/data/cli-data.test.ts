import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { demoBackfillInput, parseSource } from '../../../cli/commands/data';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import { aggregateBars } from '../../../src/market/aggregate';
import { barCopyBatch, MarketDataRepository } from '../../../src/storage/market-data-repo';
import { Worker } from '@temporalio/worker';
import { createDataActivities } from '../../../activities/data.activities';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { connectTemporal, TEST_TEMPORAL_ADDRESS, uniqueQueue, WORKFLOWS_PATH } from '../../support/temporal';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');

void describe('trader data CLI', () => {
  let db: TestDatabase;
  const from = Date.UTC(2024, 0, 3);
  const to = Date.UTC(2024, 0, 4);
  const minutes = syntheticMinuteBars('SPY', from, to, 9);
  before(async () => {
    db = await createTestDatabase('tt_cli_data');
    await new MarketDataRepository(db.pool).writeBars(barCopyBatch(minutes, 'synthetic', true), [], {
      source: 'synthetic',
    });
  });
  after(async () => db?.drop());

  void test('when 5m bars are asked as CSV and only 1m is stored, then the session-aware aggregation is exported', async () => {
    const { stdout } = await run(
      'npx',
      [
        'tsx',
        'cli/main.ts',
        'data',
        'bars',
        'SPY',
        '--tf',
        '5m',
        '--from',
        '2024-01-03',
        '--to',
        '2024-01-04',
        '--csv',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: db.url },
      },
    );
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'ts,open,high,low,close,volume');
    const expected = aggregateBars(minutes, '5m');
    assert.equal(lines.length - 1, expected.length);
    assert.equal(
      lines[1],
      `2024-01-03T14:30:00Z,${expected[0]!.open},${expected[0]!.high},${expected[0]!.low},${expected[0]!.close},${expected[0]!.volume}`,
    );
  });

  void test('when sources are parsed, then each kind is understood and an unknown one names the flag', () => {
    assert.deepEqual(parseSource('csv:lean_equity_usa'), { kind: 'csv', dataset: 'lean_equity_usa' });
    assert.deepEqual(parseSource('synthetic:7'), { kind: 'synthetic', seed: 7 });
    assert.deepEqual(parseSource('alpaca:sip'), { kind: 'alpaca', feed: 'sip' });
    assert.throws(() => parseSource('ftp'), /--source: "ftp" is not a source/);
    assert.equal(demoBackfillInput(undefined).source.kind, 'synthetic');
    assert.equal(demoBackfillInput('/nonexistent').source.kind, 'synthetic');
  });

  void test('when `trader backfill` runs against an io worker, then it follows the workflow to its summary', async () => {
    const t = await connectTemporal();
    try {
      const prefix = `${uniqueQueue('cli')}-`;
      const worker = await Worker.create({
        connection: t.nativeConnection,
        taskQueue: `${prefix}io`,
        workflowsPath: WORKFLOWS_PATH,
        activities: createDataActivities({ repo: new MarketDataRepository(db.pool) }),
      });
      const { stdout } = await worker.runUntil(
        run(
          'npx',
          [
            'tsx',
            'cli/main.ts',
            'backfill',
            '-s',
            'QQQ',
            '--tf',
            '1d',
            '--from',
            '2024-01-01',
            '--to',
            '2024-03-01',
            '--source',
            'synthetic:2',
          ],
          {
            cwd: ROOT,
            env: {
              ...process.env,
              DATABASE_URL: db.url,
              TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
              TASK_QUEUE_PREFIX: prefix,
            },
          },
        ),
      );
      assert.match(stdout, /stored 41 rows \(41 new or changed\) in 2\/2 chunks; rejected 0/);
    } finally {
      await t.close();
    }
  });
});
