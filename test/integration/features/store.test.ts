import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Redis from 'ioredis';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import {
  COMPACT_FEATURE_SET,
  barsFromMinutes,
  buildFeatureMatrix,
  type FeatureMatrix,
} from '../../../src/features';
import { matrixRow } from '../../support/matrix-row';
import { FeatureStore, encodeVector } from '../../../src/features/store';
import { barsToColumns } from '../../../src/model/bar';
import { MemoryCache, RedisCache, createCache, type KeyValueCache } from '../../../src/storage/cache';
import { createTestDatabase, type TestDatabase } from '../../support/db';

const quiet = { warn: () => undefined };
const set = COMPACT_FEATURE_SET;

function matrixFor(symbol: string): FeatureMatrix {
  const minutes = barsToColumns(
    symbol,
    '1m',
    syntheticMinuteBars(symbol, Date.UTC(2024, 3, 1), Date.UTC(2024, 3, 13), 3),
  );
  return buildFeatureMatrix(barsFromMinutes(minutes, set.timeframes), set, { symbol });
}

describe('feature store (Postgres offline + Redis online)', () => {
  let db: TestDatabase;
  let cache: KeyValueCache;
  let store: FeatureStore;
  const symbol = `T${randomUUID().slice(0, 8).toUpperCase()}`;
  let m: FeatureMatrix;

  before(async () => {
    db = await createTestDatabase('tt_features');
    cache = await createCache({ url: process.env.REDIS_URL, logger: quiet });
    store = new FeatureStore(db.pool, cache, { onlineTtlSeconds: 60 });
    await store.registerFeatureSet(set);
    m = matrixFor(symbol);
  });
  after(async () => {
    await cache.close();
    await db.drop();
  });

  test('when a matrix is written offline and read back, then every vector is byte-identical', async () => {
    const written = await store.writeOffline(m);
    assert.ok(written > 0.9 * m.rows, `${written} of ${m.rows} rows written`);
    const back = await store.readOffline(
      symbol,
      set.baseTimeframe,
      set.version,
      m.ts[0]!,
      m.ts[m.rows - 1]! + 1,
    );
    assert.equal(back.cols, m.cols);
    const firstRow = m.rows - back.ts.length;
    for (let i = 0; i < back.ts.length; i++) {
      assert.equal(back.ts[i], m.ts[firstRow + i]);
      assert.deepEqual(
        encodeVector(back.values.subarray(i * m.cols, (i + 1) * m.cols)),
        encodeVector(matrixRow(m, firstRow + i)),
      );
    }
  });

  test('when the same (symbol, ts, version) is served online and offline, then the vectors are identical', async () => {
    const last = m.rows - 1;
    const v = await store.getLatest(symbol, set, async () => ({
      ts: m.ts[last]!,
      values: matrixRow(m, last),
    }));
    const online = await store.getOnline(symbol, set.baseTimeframe, set.version);
    const offline = await store.readOfflineVector(symbol, set.baseTimeframe, set.version, v.ts);
    assert.ok(online && offline);
    assert.equal(online.ts, offline.ts);
    assert.deepEqual(encodeVector(online.values), encodeVector(offline.values));
    assert.deepEqual(encodeVector(online.values), encodeVector(matrixRow(m, last)));
    // NaN (warm-up) positions survive both paths too.
    for (const row of [0, 30, 200]) {
      const vec = {
        symbol,
        timeframe: set.baseTimeframe,
        version: set.version,
        ts: m.ts[row]!,
        values: matrixRow(m, row),
      };
      await store.writeOfflineVector(vec);
      await store.putOnline(vec);
      const on = await store.getOnline(symbol, set.baseTimeframe, set.version);
      const off = await store.readOfflineVector(symbol, set.baseTimeframe, set.version, m.ts[row]!);
      assert.deepEqual(encodeVector(on!.values), encodeVector(off!.values));
    }
  });

  test('when many callers miss at once, then the vector is computed once (stampede protection)', async () => {
    const sym = `${symbol}S`;
    let calls = 0;
    const before = store.computations;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 150));
      return { ts: m.ts[m.rows - 1]!, values: matrixRow(m, m.rows - 1) };
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => store.getLatest(sym, set, compute)));
    assert.equal(calls, 1);
    assert.equal(store.computations - before, 1);
    for (const r of results) assert.deepEqual(encodeVector(r.values), encodeVector(results[0]!.values));
  });

  test('when Redis is down, then getLatest still computes, stores offline and returns the vector', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const downStore = new FeatureStore(db.pool, new RedisCache(dead, quiet), { waitForPeerMs: 200 });
    const sym = `${symbol}D`;
    const row = m.rows - 2;
    const v = await downStore.getLatest(sym, set, async () => ({
      ts: m.ts[row]!,
      values: matrixRow(m, row),
    }));
    assert.deepEqual(encodeVector(v.values), encodeVector(matrixRow(m, row)));
    assert.equal(await downStore.getOnline(sym, set.baseTimeframe, set.version), null);
    const off = await downStore.readOfflineVector(sym, set.baseTimeframe, set.version, m.ts[row]!);
    assert.deepEqual(encodeVector(off!.values), encodeVector(v.values));
    // A second call recomputes (no online cache): slower, still right.
    await downStore.getLatest(sym, set, async () => ({ ts: m.ts[row]!, values: matrixRow(m, row) }));
    assert.equal(downStore.computations, 2);
    dead.disconnect();
  });

  test('when Redis is unreachable at start, then the in-process cache still dedupes concurrent computations', async () => {
    const fallback = await createCache({ url: 'redis://127.0.0.1:1', logger: quiet });
    assert.ok(fallback instanceof MemoryCache);
    const s = new FeatureStore(db.pool, fallback);
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      return { ts: m.ts[5]!, values: matrixRow(m, 5) };
    };
    await Promise.all(Array.from({ length: 5 }, () => s.getLatest(`${symbol}M`, set, compute)));
    assert.equal(calls, 1);
    await fallback.close();
  });
});
