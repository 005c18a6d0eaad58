import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBarsFromDb, runBacktest } from '../../../src/backtest';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';
import { createTestDatabase, type TestDatabase } from '../../support/db';

describe('loadBarsFromDb', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  test('when bars are stored in Postgres, then the backtest reads them in time order and only inside the range', async () => {
    const t0 = Date.UTC(2022, 0, 3);
    const rows: unknown[][] = [];
    for (let i = 0; i < 120; i++) {
      const px = 100 + 10 * Math.sin(i / 9) + i * 0.05;
      rows.push([
        'AAA',
        '1d',
        new Date(t0 + i * 86_400_000),
        px,
        px * 1.01,
        px * 0.99,
        px * 1.002,
        1e6 * (i % 5 === 0 ? 3 : 1),
        'test',
      ]);
    }
    // inserted newest first: the loader must order by ts
    for (const r of rows.reverse())
      await db.pool.query(
        'insert into bars (symbol, timeframe, ts, open, high, low, close, volume, source) values ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
        r,
      );
    const [cols] = await loadBarsFromDb(db.pool, ['AAA'], '1d', {
      from: t0 + 10 * 86_400_000,
      to: t0 + 110 * 86_400_000,
    });
    assert.equal(cols!.ts.length, 100);
    assert.equal(cols!.ts[0], t0 + 10 * 86_400_000);
    for (let i = 1; i < cols!.ts.length; i++) assert.ok(cols!.ts[i]! > cols!.ts[i - 1]!);
    const r = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series: [cols!] });
    assert.equal(r.barEvents, 100);
  });
});
