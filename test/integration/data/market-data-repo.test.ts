import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import { barCopyBatch, MarketDataRepository } from '../../../src/storage/market-data-repo';
import { ingestOptionsFlow } from '../../../src/data/options-flow';
import { UnusualWhalesClient } from '../../../src/data/unusual-whales';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { fixture, startStub } from '../../support/http-stub';

void describe('MarketDataRepository on PostgreSQL', () => {
  let db: TestDatabase;
  let repo: MarketDataRepository;
  const from = Date.UTC(2024, 0, 2);
  const to = Date.UTC(2024, 0, 6);
  const bars = syntheticMinuteBars('MSFT', from, to, 5);
  before(async () => {
    db = await createTestDatabase('tt_mdrepo');
    repo = new MarketDataRepository(db.pool);
  });
  after(async () => db?.drop());

  void test('when a batch is written twice, then the second write changes nothing, ingest time included', async () => {
    const first = await repo.writeBars(barCopyBatch(bars, 'synthetic', true), [], { source: 'synthetic' });
    assert.equal(first.changed, bars.length);
    const before = await repo.barChecksum({ symbol: 'MSFT' });
    const { rows: t1 } = await db.pool.query<{ t: Date }>('select max(ingested_at) as t from bars');
    const second = await repo.writeBars(barCopyBatch(bars, 'synthetic', true), [], { source: 'synthetic' });
    assert.equal(second.changed, 0);
    assert.deepEqual(await repo.barChecksum({ symbol: 'MSFT' }), before);
    const { rows: t2 } = await db.pool.query<{ t: Date }>('select max(ingested_at) as t from bars');
    assert.deepEqual(t2, t1);
    const { rows } = await db.pool.query<{ n: string }>(
      "select count(*)::text as n from bars where synthetic and source = 'synthetic'",
    );
    assert.equal(Number(rows[0]!.n), bars.length, 'synthetic rows are marked synthetic');
  });

  void test('when one bar changes and the batch is rewritten, then exactly that row is updated (upsert path)', async () => {
    const changed = bars.map((b, i) => (i === 10 ? { ...b, volume: b.volume + 1 } : b));
    const r = await repo.writeBars(barCopyBatch(changed, 'synthetic', true), [], { source: 'synthetic' });
    assert.equal(r.changed, 1);
  });

  void test('when a range is read back, then the Float64Array columns equal what was written, in ts order', async () => {
    const cols = await repo.readBarColumns('MSFT', '1m', from, to);
    assert.equal(cols.ts.length, bars.length);
    assert.ok(cols.ts instanceof Float64Array);
    for (let i = 0; i < bars.length; i += 97) {
      assert.equal(cols.ts[i], bars[i]!.ts);
      assert.equal(cols.close[i], bars[i]!.close);
      assert.equal(cols.high[i], bars[i]!.high);
    }
    const objects = await repo.readBars('MSFT', '1m', from, from + 86_400_000 * 2);
    assert.equal(objects[0]!.ts, bars[0]!.ts);
  });

  void test('when findings of a chunk are redone, then deleteFindingsAfter drops only the later batches', async () => {
    const f = (n: number) => ({
      symbol: 'MSFT',
      timeframe: '1m' as const,
      ts: from + n,
      rule: 'gap' as const,
      severity: 'warn' as const,
      value: '1',
      detail: 'd',
      location: `x:${n}`,
    });
    await repo.writeFindings([f(1)], { source: 's', chunkKey: 'k', batchSeq: 1 });
    await repo.writeFindings([f(2), f(3)], { source: 's', chunkKey: 'k', batchSeq: 2 });
    assert.equal(await repo.deleteFindingsAfter('k', 1), 2);
    const report = await repo.qualityReport({ symbol: 'MSFT' });
    assert.equal(report.length, 1);
    assert.equal(report[0]!.count, 1);
    assert.match(report[0]!.example, /^x:1/);
  });

  void test('when quotes and options flow are written, then one-sided quotes keep a NULL side and flow upserts by id', async () => {
    const text = `${from}\t100.1\t100.2\t5\t7\n${from + 60_000}\t\\N\t100.3\t0\t3\n`;
    await repo.writeQuotes(
      {
        symbol: 'MSFT',
        source: 'csv:test',
        synthetic: false,
        copyText: text,
        count: 2,
        minTs: from,
        maxTs: from + 60_000,
      },
      [],
      { source: 'csv:test' },
    );
    const { rows } = await db.pool.query<{ bid: number | null }>(
      "select bid from quotes where symbol = 'MSFT' order by ts",
    );
    assert.deepEqual(
      rows.map((r) => r.bid),
      [100.1, null],
    );
    const flow = [
      {
        id: 'a1',
        symbol: 'MSFT',
        ts: from,
        putCall: 'call',
        strike: 400,
        expiry: '2024-01-19',
        premium: 1e6,
        payload: { id: 'a1' },
      },
    ];
    assert.equal(await repo.upsertOptionsFlow(flow, 'unusual-whales'), 1);
    assert.equal(await repo.upsertOptionsFlow(flow, 'unusual-whales'), 0);
  });
});

void describe('options flow ingest', () => {
  void test('when Unusual Whales pages are ingested twice, then rows are stored once and the bad record is a finding', async () => {
    const stub = await startStub();
    const db = await createTestDatabase('tt_flow');
    try {
      const repo = new MarketDataRepository(db.pool);
      const client = new UnusualWhalesClient({ token: 't', baseUrl: stub.url, limit: 2, maxRetries: 0 });
      const pages = () =>
        stub.enqueue(
          { body: fixture('unusual-whales', 'flow-alerts-page1.json') },
          { body: fixture('unusual-whales', 'flow-alerts-page2.json') },
          { body: '{"data":[]}' },
        );
      pages();
      const first = await ingestOptionsFlow({
        client,
        repo,
        ticker: 'AAPL',
        fromMs: Date.UTC(2024, 0, 3),
        toMs: Date.UTC(2024, 0, 4),
      });
      assert.deepEqual(first, { stored: 3, changed: 3, rejected: 1 });
      pages();
      const second = await ingestOptionsFlow({
        client,
        repo,
        ticker: 'AAPL',
        fromMs: Date.UTC(2024, 0, 3),
        toMs: Date.UTC(2024, 0, 4),
      });
      assert.equal(second.changed, 0);
      const { rows } = await db.pool.query<{ n: string }>('select count(*)::text as n from options_flow');
      assert.equal(Number(rows[0]!.n), 3);
      const report = await repo.qualityReport({ dataset: 'options_flow' });
      assert.equal(report[0]!.rule, 'parse_error');
      assert.match(report[0]!.example, /flow-alerts AAPL page 2 record 1 id/);
    } finally {
      await stub.close();
      await db.drop();
    }
  });
});
