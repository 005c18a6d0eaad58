import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { createFeatureActivities } from '../../../activities/features.activities';
import { syntheticMinuteBars, SYNTHETIC_SOURCE } from '../../../src/data/synthetic';
import { COMPACT_FEATURE_SET } from '../../../src/features';
import { FeatureStore, encodeVector } from '../../../src/features/store';
import { barCopyBatch, MarketDataRepository } from '../../../src/storage/market-data-repo';
import { createCache, type KeyValueCache } from '../../../src/storage/cache';
import { createTestDatabase, type TestDatabase } from '../../support/db';

let db: TestDatabase;
let cache: KeyValueCache;
const symbol = `F${randomUUID().slice(0, 6).toUpperCase()}`;
const FROM = Date.UTC(2024, 5, 3);
const TO = Date.UTC(2024, 5, 22);

before(async () => {
  db = await createTestDatabase('tt_feat_act');
  cache = await createCache({ url: process.env.REDIS_URL, logger: { warn: () => undefined } });
  const bars = syntheticMinuteBars(symbol, FROM - 10 * 86_400_000, TO, 5);
  await new MarketDataRepository(db.pool).writeBars(barCopyBatch(bars, SYNTHETIC_SOURCE, true), [], {
    chunkKey: 'test',
    batchSeq: 0,
    source: SYNTHETIC_SOURCE,
  });
});
after(async () => {
  await cache.close();
  await db.drop();
});

test('when computeFeatures runs over stored bars, then offline rows are written and latestFeatures serves the same vector', async () => {
  const acts = createFeatureActivities({ pool: db.pool, cache, threads: 2 });
  const r = await acts.computeFeatures({
    symbols: [symbol, 'NOBARS'],
    featureSet: 'compact',
    fromMs: FROM,
    toMs: TO,
    warmUpDays: 10,
  });
  assert.equal(r.version, COMPACT_FEATURE_SET.version);
  const mine = r.symbols.find((s) => s.symbol === symbol)!;
  assert.ok(mine.written > 500, `written ${mine.written}`);
  assert.equal(r.symbols.find((s) => s.symbol === 'NOBARS')!.bars, 0);

  const asOf = Date.UTC(2024, 5, 14, 17, 3);
  const latest = await acts.latestFeatures({
    symbols: [symbol, 'NOBARS'],
    featureSet: 'compact',
    asOfMs: asOf,
  });
  assert.deepEqual(latest.missing, ['NOBARS']);
  const v = latest.vectors[0]!;
  assert.ok(
    v.ts + 5 * 60_000 <= asOf && v.ts + 10 * 60_000 > asOf,
    `vector ts ${new Date(v.ts).toISOString()}`,
  );
  const offline = await new FeatureStore(db.pool, cache).readOfflineVector(
    symbol,
    '5m',
    COMPACT_FEATURE_SET.version,
    v.ts,
  );
  assert.ok(offline, 'offline row for the same ts');
  assert.deepEqual(
    encodeVector(Float32Array.from(v.values, (x) => (x === null ? NaN : x))),
    encodeVector(offline.values),
  );
});

test('when the input is invalid, then the activity fails without retry and names the field', async () => {
  const acts = createFeatureActivities({ pool: db.pool, cache });
  await assert.rejects(
    acts.computeFeatures({ symbols: [], featureSet: 'compact', fromMs: 0, toMs: 1 }),
    /symbols/,
  );
  await assert.rejects(acts.latestFeatures({ symbols: ['X'], featureSet: 'nope', asOfMs: 0 }), /nope/);
});

test('when the online vector is for the bar that closed last, then latestFeatures serves it without recomputing', async () => {
  const acts = createFeatureActivities({ pool: db.pool, cache });
  // computeFeatures published the vector of the last 5m bar (2024-06-21 19:55, closed 20:00).
  const asOf = Date.UTC(2024, 5, 21, 20, 0, 30);
  const first = await acts.latestFeatures({ symbols: [symbol], featureSet: 'compact', asOfMs: asOf });
  const v = first.vectors[0]!;
  assert.equal(v.ts, Date.UTC(2024, 5, 21, 19, 55));
  // Make the stored bars disappear: a second call can only answer from the online cache.
  await db.pool.query('delete from bars where symbol = $1', [symbol]);
  const second = await acts.latestFeatures({ symbols: [symbol], featureSet: 'compact', asOfMs: asOf });
  assert.deepEqual(second.vectors[0], v);
});
