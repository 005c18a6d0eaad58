import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBacktestActivities } from '../../../activities/backtest.activities';
import { listBacktestRuns } from '../../../src/backtest';
import { mulberry32 } from '../../../src/model/random';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataDir } from '../../support/shared-data';

describe('backtest activity and recorded runs', () => {
  let db: TestDatabase;
  let reports: string;
  before(async () => {
    db = await createTestDatabase();
    reports = mkdtempSync(join(tmpdir(), 'bt-reports-'));
    const rnd = mulberry32(77);
    const t0 = Date.UTC(2021, 0, 4);
    for (const symbol of ['AAA', 'BBB']) {
      let px = 50;
      let drift = 0;
      const values: string[] = [];
      const params: unknown[] = [];
      for (let i = 0; i < 300; i++) {
        if (i % 40 === 0) drift = (rnd() - 0.5) * 0.01;
        const o = px;
        const c = o * (1 + drift + (rnd() - 0.5) * 0.02);
        const k = params.length;
        values.push(`($${k + 1},'1d',$${k + 2},$${k + 3},$${k + 4},$${k + 5},$${k + 6},$${k + 7},'test')`);
        params.push(
          symbol,
          new Date(t0 + i * 86_400_000),
          o,
          Math.max(o, c) * 1.004,
          Math.min(o, c) * 0.996,
          c,
          1e6 * (rnd() < 0.3 ? 3 : 1),
        );
        px = c;
      }
      await db.pool.query(
        `insert into bars (symbol, timeframe, ts, open, high, low, close, volume, source) values ${values.join(',')}`,
        params,
      );
    }
  });
  after(async () => {
    await db?.drop();
    if (reports) rmSync(reports, { recursive: true, force: true });
  });

  test('when the activity backtests bars from Postgres twice, then it writes the report and records one run', async () => {
    const acts = createBacktestActivities({
      pool: db.pool,
      reportDir: reports,
      sharedDataDir: sharedDataDir(),
    });
    const input = {
      symbols: ['AAA', 'BBB'],
      timeframes: ['1d' as const],
      from: '2021-01-01',
      to: '2022-01-01',
      barsFrom: 'db' as const,
      monteCarloRuns: 50,
      reportName: 'db.html',
    };
    const a = await acts.runBacktest(input);
    const b = await acts.runBacktest(input);
    assert.equal(a.runId, b.runId);
    assert.equal(a.orderHash, b.orderHash);
    assert.ok(a.barEvents > 0 && a.barEvents <= 600);
    assert.ok(a.reportPath && existsSync(a.reportPath));
    const rows = await listBacktestRuns(db.pool);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.orderHash, a.orderHash);
  });

  test('when the input is invalid, then the activity fails without retry and names the field', async () => {
    const acts = createBacktestActivities({ pool: db.pool, reportDir: reports });
    await assert.rejects(
      acts.runBacktest({ symbols: [], timeframes: ['1d'], barsFrom: 'db' }),
      (e: Error & { nonRetryable?: boolean }) => /symbols/.test(e.message) && e.nonRetryable === true,
    );
    await assert.rejects(
      acts.runBacktest({
        symbols: ['AAA'],
        timeframes: ['1d'],
        barsFrom: 'db',
        reportName: '../escape.html',
      }),
      /reportName/,
    );
    await assert.rejects(
      acts.runBacktest({ symbols: ['AAA'], timeframes: ['1d'], barsFrom: 'db' }),
      /--from\/--to: both are required/,
    );
  });
});
